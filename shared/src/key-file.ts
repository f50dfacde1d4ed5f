/**
 * The room key on disk: where it lives, how it is written, how it is read back.
 *
 * Introduced by stage 5 (`npm run keygen` writes it, the stage 5 client reads
 * it), reused by stage 6, whose server needs the key too: it opens the sealed
 * credentials of every login with it.
 *
 * **Format.** One line of text: the 32-byte key in standard, padded base64
 * (44 characters), then a newline. Text survives copy-paste into a chat with a
 * friend, a password manager or an environment file; the loader tolerates
 * surrounding whitespace and nothing else.
 *
 * ```text
 * q5Jv0cN0x8m1mVx0c4Jb0m1Wq8gk2f6ZrQ0nJv2Y3aE=
 * ```
 *
 * **Where.** `--key-file PATH`, else `CHAT_KEY_FILE`, else `.data/chat.key` in
 * the repository. `.data/` is listed in `.gitignore`: a key committed to git is
 * a key published forever.
 *
 * **Permissions.** The file is created with mode 0600 (owner read/write only)
 * inside a folder created with mode 0700. A key that other local users can
 * read or write is a warning by default, so a stage 5 learner sees the problem
 * and its fix; the stage 6 server asks for `permissions: 'refuse'`, because
 * there the key opens every password typed at login.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { KEY_BYTES } from './crypto';
import { ChatError } from './errors';
import { publishNew } from './private-file';

/** The key file used when neither `--key-file` nor `CHAT_KEY_FILE` is given. */
export const DEFAULT_KEY_FILE = path.resolve(__dirname, '..', '..', '.data', 'chat.key');

/** The environment variable that names the key file. */
export const KEY_FILE_ENV = 'CHAT_KEY_FILE';

// A key file is 45 bytes; anything much bigger is the wrong file, so do not read it all.
const MAX_KEY_FILE_BYTES = 1024;

/**
 * Chooses the key file path: the flag, then the environment, then the default.
 *
 * @param flag - the value of `--key-file`, if given
 * @param env - the environment; `CHAT_KEY_FILE` is read from it
 * @returns an absolute path
 *
 * @example
 * ```ts
 * resolveKeyFile(undefined, { CHAT_KEY_FILE: '/tmp/k' }); //=> '/tmp/k'
 * ```
 */
export function resolveKeyFile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag ?? env[KEY_FILE_ENV];
  return chosen === undefined || chosen === '' ? DEFAULT_KEY_FILE : path.resolve(chosen);
}

/**
 * Encodes a key in the key-file format: base64 and a newline.
 *
 * @param key - 32 bytes
 * @returns the file's text
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 */
export function formatKey(key: Uint8Array): string {
  if (key.length !== KEY_BYTES) {
    throw new ChatError('BAD_KEY', `key is ${key.length} bytes; expected ${KEY_BYTES}`);
  }
  return Buffer.from(key).toString('base64') + '\n';
}

/**
 * Decodes the text of a key file.
 *
 * @param text - the file's contents
 * @param file - the path, only for the error message
 * @returns the 32-byte key
 * @throws ChatError `BAD_KEY` unless `text` is one base64 line that decodes to 32 bytes
 */
export function parseKey(text: string, file = 'key file'): Buffer {
  const line = text.trim();
  const key = Buffer.from(line, 'base64');
  // Buffer.from(…, 'base64') silently skips junk, so require the exact round trip.
  if (line === '' || key.toString('base64') !== line) {
    throw new ChatError('BAD_KEY', `${file} is not one line of base64 (was it edited?)`);
  }
  if (key.length !== KEY_BYTES) {
    throw new ChatError(
      'BAD_KEY',
      `${file} holds a ${key.length}-byte key; AES-256 needs ${KEY_BYTES} bytes (run \`npm run keygen -- --force\` to replace it)`,
    );
  }
  return key;
}

/** Options for {@link saveKeyFile}. */
export interface SaveKeyOptions {
  /** Replace an existing file. Without it, an existing file is a `KEY_EXISTS` error. */
  force?: boolean;
}

/**
 * Writes `key` to `file` with mode 0600, creating the folder (mode 0700) if
 * needed. The file is written under a temporary name and renamed into place,
 * so a reader never sees half a key and `--force` never leaves the old
 * file's looser permissions on the new key.
 *
 * @param file - where to write
 * @param key - 32 bytes
 * @param options - `force` to overwrite
 * @throws ChatError `KEY_EXISTS` if `file` exists and `force` is not set
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 */
export function saveKeyFile(file: string, key: Uint8Array, options: SaveKeyOptions = {}): void {
  const text = formatKey(key);
  if (!options.force && fs.existsSync(file)) {
    throw new ChatError(
      'KEY_EXISTS',
      `${file} already exists; pass --force to replace it (everyone then needs the new key)`,
    );
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  // 'wx' fails if the temp name exists instead of following a planted symlink.
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask can only remove bits, but be explicit
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (options.force) fs.renameSync(temp, file);
    else if (!publishNew(temp, file)) {
      throw new ChatError('KEY_EXISTS', `${file} appeared while writing; not replaced`);
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Options for {@link loadKeyFile}. */
export interface LoadKeyOptions {
  /**
   * Receives a warning (e.g. permissions too open). Default: print
   * `warning: …` on stderr.
   */
  warn?: (message: string) => void;
  /**
   * What a key file that other users can read or write gets: `'warn'` (the
   * default) loads it with a warning; `'refuse'` throws `BAD_KEY`. A program
   * that opens other people's secrets with the key (the stage 6 server) refuses.
   */
  permissions?: 'warn' | 'refuse';
}

/**
 * Reads and checks the room key.
 *
 * @param file - the key file (see {@link resolveKeyFile})
 * @param options - where warnings go, and whether loose permissions are refused
 * @returns the 32-byte key
 * @throws ChatError `KEY_MISSING` if there is no file at `file` (the message
 *   says to run `npm run keygen`)
 * @throws ChatError `BAD_KEY` if it is not a regular file of the right format,
 *   or (with `permissions: 'refuse'`) if other users can read or write it
 */
export function loadKeyFile(file: string, options: LoadKeyOptions = {}): Buffer {
  const warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ChatError(
        'KEY_MISSING',
        `no key file at ${file}. Create one with \`npm run keygen\` (every member of the room needs a copy of the same file), or pass --key-file PATH`,
      );
    }
    throw new ChatError('BAD_KEY', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (!stat.isFile() || stat.size > MAX_KEY_FILE_BYTES) {
    throw new ChatError('BAD_KEY', `${file} is not a key file (expected one short line)`);
  }
  // Windows has no Unix permission bits; fs reports 0o666 there, so skip the check.
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    const bits = stat.mode & 0o777;
    const how = bits & 0o044 ? 'readable' : bits & 0o022 ? 'writable' : 'accessible';
    const problem = `key file ${file} is ${how} by other users (mode ${bits.toString(8)})`;
    if (options.permissions === 'refuse') {
      throw new ChatError(
        'BAD_KEY',
        `${problem}, and this key opens every password sent at login; fix: chmod 600 ${file}`,
      );
    }
    warn(`${problem}; fix: chmod 600 ${file}`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ChatError('BAD_KEY', `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseKey(text, file);
}

/** What {@link loadOrCreateKeyFile} found. */
export interface LoadedKey {
  /** The 32-byte key. */
  key: Buffer;
  /** True if there was no file and this call wrote a new key. */
  created: boolean;
}

/**
 * Loads the key, or writes a new random one first when there is none: the
 * first `npm run stage6` on a fresh clone needs no other command. Two
 * processes starting at once end with the same key (the loser of the race
 * loads the winner's file).
 *
 * @param file - the key file
 * @param newKey - makes the key when one is needed (`generateKey`)
 * @param options - as for {@link loadKeyFile}
 * @throws ChatError `BAD_KEY` as {@link loadKeyFile} does
 */
export function loadOrCreateKeyFile(
  file: string,
  newKey: () => Uint8Array,
  options: LoadKeyOptions = {},
): LoadedKey {
  if (!fs.existsSync(file)) {
    try {
      saveKeyFile(file, newKey());
      return { key: loadKeyFile(file, options), created: true };
    } catch (err) {
      if (!(err instanceof ChatError && err.code === 'KEY_EXISTS')) throw err;
    }
  }
  return { key: loadKeyFile(file, options), created: false };
}
