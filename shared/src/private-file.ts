/**
 * Files only their owner may read: private keys, the ticket key, the
 * known-servers list, a client's stored tickets.
 *
 * Introduced by stage 7. Stage 5's room key file (`key-file.ts`) taught
 * the recipe; stage 7 has four kinds of such files, so the recipe lives here
 * once:
 *
 * - **Written atomically.** The content goes to a temporary file in the same
 *   folder, is flushed to disk, then renamed over the target. A reader (or a
 *   crash) sees the old file or the new one, never half of either.
 * - **Mode 0600 from the first byte**, in a folder created 0700. The file is
 *   created with the mode, not chmod-ed afterwards, so there is no moment when
 *   another local user could open it; a replaced file never keeps the old
 *   file's looser mode.
 * - **Read with a size cap**, and a warning (not a refusal) when other users
 *   can read it, so a learner sees the problem and its fix.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChatError } from './errors';

/** Options for {@link writePrivateFile}. */
export interface WritePrivateOptions {
  /**
   * Replace an existing file. Without it, an existing file makes
   * {@link writePrivateFile} return `false` and write nothing.
   */
  replace?: boolean;
}

/**
 * Writes `content` to `file` with mode 0600, atomically (temporary file, fsync,
 * rename), creating the folder with mode 0700 if needed.
 *
 * @param file - where to write
 * @param content - the whole new content
 * @param options - `replace` to overwrite an existing file
 * @returns `true` if written; `false` if `file` exists and `replace` is not set
 * @throws ChatError `BAD_ARGUMENT` if a file stands where the folder should be
 */
export function writePrivateFile(
  file: string,
  content: string | Uint8Array,
  options: WritePrivateOptions = {},
): boolean {
  if (!options.replace && fs.existsSync(file)) return false;
  makePrivateFolder(file);
  // A random part keeps two writers in one process (or two processes) apart.
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  // 'wx' fails if the temp name exists instead of following a planted symlink.
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask can only remove bits, but be explicit
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (options.replace) fs.renameSync(temp, file);
    else if (!publishNew(temp, file)) return false; // appeared meanwhile
    return true;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Gives the finished file `temp` the name `file`, unless `file` exists:
 * one step, so a file another process created a moment ago is never
 * replaced. (Checking, then renaming, left a gap between the two: two
 * servers starting at once could each write its own key, and both go on.)
 * A hard link fails with `EEXIST` instead of replacing; the caller then
 * removes `temp`.
 *
 * @param temp - the complete new file, in the same folder
 * @param file - the name it should have
 * @returns `false` if `file` already exists (nothing changed)
 */
export function publishNew(temp: string, file: string): boolean {
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Creates the folder `file` goes in, private (0700), with any missing parents.
 * A file in the way (`--data-dir` naming a file, say) is a clear error naming
 * it, not mkdir's stack trace.
 *
 * @param file - the file that will be written in that folder
 * @throws ChatError `BAD_ARGUMENT` if a file stands where the folder should be
 */
export function makePrivateFolder(file: string): void {
  const folder = path.dirname(file);
  try {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    // The nearest path at or above the folder that exists: what is in the way.
    let inTheWay = folder;
    while (!fs.existsSync(inTheWay) && path.dirname(inTheWay) !== inTheWay) {
      inTheWay = path.dirname(inTheWay);
    }
    throw new ChatError(
      'BAD_ARGUMENT',
      `cannot write ${file}: ${inTheWay} is a file, not a folder`,
    );
  }
}

/** Options for {@link readPrivateFile}. */
export interface ReadPrivateOptions {
  /** Refuse files larger than this many bytes (default 64 KiB): it is the wrong file. */
  maxBytes?: number;
  /** Receives a warning such as "readable by other users". Default: stderr. */
  warn?: (message: string) => void;
}

/** Why {@link readPrivateFile} could not return a file's content. */
export type ReadPrivateFailure = 'missing' | 'not-a-file' | 'too-large' | 'unreadable';

/** What {@link readPrivateFile} returns: the text, or why there is none. */
export type ReadPrivateResult =
  | {
      /** Always `true`: the file was read. */
      ok: true;
      /** Its content, UTF-8. */
      text: string;
    }
  | {
      /** Always `false`: there is no content. */
      ok: false;
      /** Why, for the caller to choose its error. */
      reason: ReadPrivateFailure;
      /** One line naming the file and the problem. */
      detail: string;
    };

/**
 * Reads a private file as UTF-8 text, warning if its mode lets other users
 * read it. Never throws for a missing or bad file: the caller turns the
 * reason into its own error with its own advice.
 *
 * @param file - the file
 * @param options - size cap and where warnings go
 */
export function readPrivateFile(file: string, options: ReadPrivateOptions = {}): ReadPrivateResult {
  const warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
  const maxBytes = options.maxBytes ?? 64 * 1024;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      reason: missing ? 'missing' : 'unreadable',
      detail: missing ? `no file at ${file}` : `cannot read ${file}: ${(err as Error).message}`,
    };
  }
  if (!stat.isFile()) return { ok: false, reason: 'not-a-file', detail: `${file} is not a file` };
  if (stat.size > maxBytes) {
    return { ok: false, reason: 'too-large', detail: `${file} is larger than ${maxBytes} bytes` };
  }
  // Windows has no Unix permission bits; fs reports 0o666 there, so skip the check.
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8);
    warn(`${file} is readable by other users (mode ${mode}); fix: chmod 600 ${file}`);
  }
  try {
    return { ok: true, text: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    return {
      ok: false,
      reason: 'unreadable',
      detail: `cannot read ${file}: ${(err as Error).message}`,
    };
  }
}
