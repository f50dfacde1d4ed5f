/**
 * Private files: written whole with mode 0600, read back with a size cap and a
 * warning when other local users could read them.
 *
 * Introduced by stage 8, for the identity key file and the known-members file
 * (stage 5's room key file predates it and keeps its own copy of the same
 * rules). A file that holds keys, or the record of whose keys to trust, is
 * written under a temporary name and renamed into place: a crash never leaves
 * half a file, and a replaced file never keeps the old one's permissions.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChatError } from './errors';

/** Options for {@link writePrivateFile}. */
export interface WritePrivateOptions {
  /** Replace an existing file. Without it, an existing file is a `KEY_EXISTS` error. */
  replace?: boolean;
}

/**
 * Writes `text` to `file` with mode 0600 (folder 0700), atomically.
 *
 * @param file - where to write
 * @param text - the whole content
 * @param options - `replace` to overwrite
 * @throws ChatError `KEY_EXISTS` if `file` exists and `replace` is not set
 */
export function writePrivateFile(
  file: string,
  text: string,
  options: WritePrivateOptions = {},
): void {
  if (options.replace !== true && fs.existsSync(file)) {
    throw new ChatError('KEY_EXISTS', `${file} already exists; not replaced`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  // 'wx' fails if the temporary name exists instead of following a planted symlink.
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask can only remove bits, but be explicit
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (options.replace !== true && fs.existsSync(file)) {
      throw new ChatError('KEY_EXISTS', `${file} appeared while writing; not replaced`);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** Options for {@link readPrivateFile}. */
export interface ReadPrivateOptions {
  /** Refuse files larger than this many bytes (a wrong path must not be read whole). */
  maxBytes: number;
  /** Receives a warning (permissions too open). Default: `warning: …` on stderr. */
  warn?: (message: string) => void;
}

/**
 * Reads a private file as UTF-8, or returns `null` if it does not exist.
 * A file other users can read still loads, with a warning naming the fix.
 *
 * @param file - the path
 * @param options - the size cap, and where warnings go
 * @throws ChatError `BAD_KEY` if it is not a regular file, is too large, or cannot be read
 */
export function readPrivateFile(file: string, options: ReadPrivateOptions): string | null {
  const warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ChatError('BAD_KEY', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (!stat.isFile() || stat.size > options.maxBytes) {
    throw new ChatError(
      'BAD_KEY',
      `${file} is not a regular file of at most ${options.maxBytes} bytes`,
    );
  }
  // Windows has no Unix permission bits; fs reports 0o666 there, so skip the check.
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8);
    warn(`${file} is readable by other users (mode ${mode}); fix: chmod 600 ${file}`);
  }
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ChatError('BAD_KEY', `cannot read ${file}: ${(err as Error).message}`);
  }
}
