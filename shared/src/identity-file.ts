/**
 * The identity key file: a user's two private keys, sealed under their password.
 *
 * Introduced by stage 8. The keys are made at registration and must survive
 * restarts, but a file of raw private keys is one backup, one stolen laptop or
 * one `cat` away from someone else reading and signing as you. So the file
 * holds them sealed with AES-256-GCM under a key derived from the password:
 *
 * ```text
 * key    = scrypt(NFC(password) as UTF-8, salt, N = 2^logN, r, p) → 32 bytes
 * sealed = AES-256-GCM(key, random nonce, ed25519 seed | x25519 key,
 *          AD = record("socket-chat v8 identity file", format, username, logN, r, p, salt))
 * ```
 *
 * The file is JSON (mode 0600, written atomically):
 *
 * ```json
 * { "format": "socket-chat identity v1", "username": "alice",
 *   "scrypt": { "logN": 17, "r": 8, "p": 1, "salt": "<16 bytes, base64>" },
 *   "sealed": "<nonce | 64 bytes of keys | tag, base64>" }
 * ```
 *
 * **Why scrypt, and these parameters.** Whoever copies the file can try
 * passwords offline as fast as their hardware allows; the only defence is to
 * make each guess expensive. scrypt is *memory*-hard: each guess needs
 * 128 · N · r bytes, which is what makes GPUs and ASICs, rich in cores but not
 * in memory per core, slow at it. The default N = 2^17, r = 8, p = 1 is
 * OWASP's recommendation: 128 MiB per guess, and a noticeable fraction of a
 * second on an ordinary machine, paid once per client start (async, on
 * libuv's thread pool). The parameters are stored in the file, so a later
 * version can raise them and still open old files; on reading they are
 * bounded (at most 256 MiB), so a planted file cannot make the client
 * allocate gigabytes. The password is NFC-normalised so that "é" typed as one
 * code point or as e + accent unlocks the same file.
 *
 * **Why the header is associated data.** Changing the username or lowering
 * the cost in the file would otherwise go unnoticed; as AD it makes the file
 * fail to open instead.
 *
 * **A wrong password** fails the GCM tag, exactly like a tampered file:
 * `KEY_LOCKED`, never garbage keys. (The two cannot be told apart, by design:
 * a file that said "wrong password" could be probed without the tag.)
 *
 * @module
 */
import { randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes';
import { NONCE_BYTES, open, seal } from './crypto';
import { E2E_LABELS } from './e2e-labels';
import { ChatError, isChatError } from './errors';
import {
  identityFromPrivateKeys,
  KEY_BYTES_25519,
  privateKeyBytes,
  type Identity,
} from './identity-keys';
import { readPrivateFile, writePrivateFile, type WritePrivateOptions } from './private-file';
import { isBase64 } from './base64';

/** The `format` string of the current version; a file with another one is refused. */
export const IDENTITY_FILE_FORMAT = 'socket-chat identity v1';

/** scrypt's cost parameters, as stored in the file. */
export interface ScryptCost {
  /** log2 of N, the CPU and memory cost (N = 2^logN). */
  logN: number;
  /** Block size: memory per guess is 128 · N · r bytes. */
  r: number;
  /** Parallelism: independent lanes (more time per guess, not more memory). */
  p: number;
}

/** OWASP's scrypt parameters: 128 MiB of memory per unlock (and per guess). */
export const DEFAULT_SCRYPT_COST: Readonly<ScryptCost> = { logN: 17, r: 8, p: 1 };

/**
 * Bounds a file's parameters must be inside. The floor keeps a guess costly
 * (16 MiB); the ceiling (256 MiB) keeps a planted file from exhausting memory.
 */
export const SCRYPT_BOUNDS = {
  /** Smallest log2 N accepted (2^14: 16 MiB at r = 8). */
  minLogN: 14,
  /** Largest log2 N accepted (2^18: 256 MiB at r = 8). */
  maxLogN: 18,
  /** Largest block size r. */
  maxR: 16,
  /** Largest parallelism p. */
  maxP: 4,
  /** Most memory one derivation may need, 128 · N · r bytes: 256 MiB. */
  maxMemory: 2 ** 28,
};

const SALT_BYTES = 16;
const SEALED_BYTES = NONCE_BYTES + 2 * KEY_BYTES_25519 + 16;
// The JSON file is a few hundred bytes; anything much larger is the wrong file.
const MAX_FILE_BYTES = 4096;

/** Options for {@link lockIdentity}. Production code passes none. */
export interface LockOptions {
  /** scrypt parameters; default {@link DEFAULT_SCRYPT_COST}. Tests use the floor. */
  cost?: ScryptCost;
  /** **Test vectors only**: this salt instead of 16 random bytes. */
  testVectorSalt?: Uint8Array;
  /** **Test vectors only**: this GCM nonce instead of a random one (see crypto.ts). */
  testVectorNonce?: Uint8Array;
}

/**
 * Seals an identity under a password, as the text of an identity file.
 *
 * @param identity - the keys to protect
 * @param password - the account password (never stored)
 * @param options - the scrypt cost; the rest is for test vectors
 * @returns the file's text (JSON and a newline)
 * @throws ChatError `BAD_PASSWORD` for an empty password
 * @throws ChatError `BAD_IDENTITY_FILE` for a cost outside {@link SCRYPT_BOUNDS}
 */
export async function lockIdentity(
  identity: Identity,
  password: string,
  options: LockOptions = {},
): Promise<string> {
  if (password === '') throw new ChatError('BAD_PASSWORD', 'an empty password cannot seal keys');
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  checkCost(cost);
  const salt = Buffer.from(options.testVectorSalt ?? randomBytes(SALT_BYTES));
  const key = await deriveKey(password, salt, cost);
  const secrets = privateKeyBytes(identity);
  const ad = fileAssociatedData(identity.username, cost, salt);
  const sealed = seal(key, secrets, ad, { testVectorNonce: options.testVectorNonce });
  key.fill(0);
  secrets.fill(0);
  const file = {
    format: IDENTITY_FILE_FORMAT,
    username: identity.username,
    scrypt: { ...cost, salt: salt.toString('base64') },
    sealed: sealed.toString('base64'),
  };
  return JSON.stringify(file, null, 2) + '\n';
}

/**
 * Opens the text of an identity file with a password.
 *
 * @param text - the file's content
 * @param password - the password it was sealed with
 * @returns the identity, bundle signature included
 * @throws ChatError `KEY_LOCKED` for a wrong password or an altered file
 * @throws ChatError `BAD_IDENTITY_FILE` if it is not a v1 identity file within bounds
 */
export async function unlockIdentity(text: string, password: string): Promise<Identity> {
  const file = parseFile(text);
  const key = await deriveKey(password, file.salt, file.cost);
  const ad = fileAssociatedData(file.username, file.cost, file.salt);
  let secrets: Buffer;
  try {
    secrets = open(key, file.sealed, ad);
  } catch (err) {
    if (!isChatError(err, 'DECRYPT_FAILED')) throw err;
    throw new ChatError('KEY_LOCKED', 'wrong password, or the identity file was altered');
  } finally {
    key.fill(0);
  }
  try {
    return identityFromPrivateKeys(
      file.username,
      secrets.subarray(0, KEY_BYTES_25519),
      secrets.subarray(KEY_BYTES_25519),
    );
  } finally {
    secrets.fill(0);
  }
}

/**
 * Seals `identity` and writes it to `file` (0600).
 *
 * @param file - the path
 * @param identity - the keys
 * @param password - the account password
 * @param options - scrypt cost, and `replace` to overwrite an existing file
 * @throws ChatError `KEY_EXISTS` if the file exists and `replace` is not set
 */
export async function saveIdentityFile(
  file: string,
  identity: Identity,
  password: string,
  options: LockOptions & WritePrivateOptions = {},
): Promise<void> {
  if (!writePrivateFile(file, await lockIdentity(identity, password, options), options)) {
    throw new ChatError('KEY_EXISTS', `${file} already exists; not replaced`);
  }
}

/**
 * Reads and unlocks an identity file.
 *
 * @param file - the path
 * @param password - the password
 * @param warn - receives a warning if the file's permissions are too open
 * @throws ChatError `KEY_MISSING` if there is no file there
 * @throws ChatError `KEY_LOCKED` or `BAD_IDENTITY_FILE` as {@link unlockIdentity}
 */
export async function loadIdentityFile(
  file: string,
  password: string,
  warn?: (message: string) => void,
): Promise<Identity> {
  const read = readPrivateFile(file, { maxBytes: MAX_FILE_BYTES, warn });
  if (!read.ok && read.reason === 'missing') {
    // Both remedies: --register alone on an existing account is NAME_TAKEN.
    throw new ChatError(
      'KEY_MISSING',
      `no identity file at ${file}: pass --register to create a new account with one, or ` +
        `--new-keys to make new keys for an existing account (everyone who saw its old key is warned)`,
    );
  }
  if (!read.ok) throw new ChatError('BAD_IDENTITY_FILE', read.detail);
  return unlockIdentity(read.text, password);
}

function fileAssociatedData(username: string, cost: ScryptCost, salt: Uint8Array): Buffer {
  return new CanonicalWriter(E2E_LABELS.identityFile)
    .string(IDENTITY_FILE_FORMAT)
    .string(username)
    .u32(cost.logN)
    .u32(cost.r)
    .u32(cost.p)
    .bytes(salt)
    .finish();
}

function deriveKey(password: string, salt: Uint8Array, cost: ScryptCost): Promise<Buffer> {
  const memory = 128 * 2 ** cost.logN * cost.r;
  // Node refuses anything over maxmem (32 MiB by default); allow exactly what
  // this cost needs, plus slack for scrypt's small extra buffers.
  const options: ScryptOptions = { N: 2 ** cost.logN, r: cost.r, p: cost.p, maxmem: memory * 2 };
  const secret = Buffer.from(password.normalize('NFC'), 'utf8');
  return new Promise((resolve, reject) =>
    scryptCallback(secret, salt, 32, options, (err, key) => {
      secret.fill(0);
      if (err === null) resolve(key);
      else reject(err);
    }),
  );
}

function checkCost(cost: ScryptCost): void {
  const { minLogN, maxLogN, maxR, maxP, maxMemory } = SCRYPT_BOUNDS;
  const ok =
    isIntIn(cost.logN, minLogN, maxLogN) &&
    isIntIn(cost.r, 1, maxR) &&
    isIntIn(cost.p, 1, maxP) &&
    128 * 2 ** cost.logN * cost.r <= maxMemory;
  if (!ok) {
    throw new ChatError(
      'BAD_IDENTITY_FILE',
      `scrypt parameters out of bounds (logN ${minLogN}-${maxLogN}, r ≤ ${maxR}, p ≤ ${maxP}, ≤ 256 MiB)`,
    );
  }
}

const isIntIn = (v: unknown, min: number, max: number): v is number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

interface ParsedFile {
  username: string;
  cost: ScryptCost;
  salt: Buffer;
  sealed: Buffer;
}

function parseFile(text: string): ParsedFile {
  const bad = (why: string) => new ChatError('BAD_IDENTITY_FILE', `identity file: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const file = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (file.format !== IDENTITY_FILE_FORMAT) throw bad(`format is not "${IDENTITY_FILE_FORMAT}"`);
  if (typeof file.username !== 'string' || file.username === '') throw bad('no username');
  const params = (
    typeof file.scrypt === 'object' && file.scrypt !== null ? file.scrypt : {}
  ) as Record<string, unknown>;
  const cost = { logN: params.logN, r: params.r, p: params.p } as ScryptCost;
  checkCost(cost);
  const salt = base64Of(params.salt, SALT_BYTES);
  const sealed = base64Of(file.sealed, SEALED_BYTES);
  if (salt === null || sealed === null) throw bad('salt or sealed keys malformed');
  return { username: file.username, cost, salt, sealed };
}

function base64Of(value: unknown, bytes: number): Buffer | null {
  if (typeof value !== 'string' || !isBase64(value)) return null;
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes ? decoded : null;
}
