/**
 * What a user record holds, the checks every value passes before it reaches
 * a database, and what a store of records must do ({@link UserStore}).
 *
 * Introduced by stage 6. Placeholders stop a value from being read as SQL, but
 * they do not stop a value of the wrong *type*: mysql2 once expanded an object
 * bound to `?` into `` `column` = 1 ``, which turned `WHERE username = ?` into
 * a condition true for every row (a login bypass), and a number bound to `?`
 * still makes MySQL compare `'alice' = 0` numerically, which is true. So every
 * value is checked here, in one place, before any store sends it anywhere.
 *
 * The username rule: 1 to 32 characters from `A-Z a-z 0-9 _ . -`. In every
 * store a name is unique ignoring case (`Alice` cannot be registered once
 * `alice` exists: the MySQL column's collation is case-insensitive, SQLite
 * has a NOCASE unique index), but a login must give it exactly as registered
 * (each store compares the row it found with the name asked for), so both
 * stores give the same answers.
 *
 * The {@link UserStore} interface lives here, not in user-store.ts, so the two
 * drivers that implement it depend only on this file: user-store.ts, which
 * picks a driver, loads that one alone, and nothing loads user-store.ts back.
 *
 * @module
 */
import { ChatError } from './errors';

/**
 * Where registered users live. Every method validates its arguments before
 * touching the database, and every failure is a `ChatError` with a
 * stable code.
 */
export interface UserStore {
  /**
   * What this store is, for the server's start-up line, e.g.
   * `SQLite file .data/chat.sqlite` or `MySQL chat_app@127.0.0.1:3306/chat_course`.
   * Never contains a password.
   */
  readonly description: string;

  /**
   * Registers a user. Uniqueness is enforced by a database UNIQUE constraint
   * that ignores case: `Alice` is taken once `alice` exists.
   *
   * @param username - checked with {@link validateUsername} before any query
   * @param passwordHash - the bcrypt hash (never the password)
   * @throws ChatError `NAME_TAKEN` if the name, in any case, is already registered,
   *   `BAD_USERNAME` for an invalid or non-string username,
   *   `SERVICE_UNAVAILABLE` if the database is unreachable, times out or fails
   */
  createUser(username: string, passwordHash: string): Promise<void>;

  /**
   * Looks a user up by exact name: `ALICE` does not find `alice`.
   *
   * @param username - checked with {@link validateUsername} before any query
   * @returns the user, or `undefined` if no such user is registered
   * @throws ChatError `BAD_USERNAME` for an invalid or non-string username,
   *   `SERVICE_UNAVAILABLE` if the database is unreachable, times out or fails
   */
  findUser(username: string): Promise<StoredUser | undefined>;

  /** Releases the connections or the file. Later calls fail with `SERVICE_UNAVAILABLE`. */
  close(): Promise<void>;
}

/**
 * Where users' public keys live (stage 8): the `user_keys` table, beside
 * `users`, in the same database. A separate interface, so the stages before
 * 8 (and their test doubles) need not know about keys; both real stores
 * implement it.
 */
export interface PublicKeyStore {
  /**
   * Appends a user's public keys (stage 8): a new row, never an UPDATE, so a
   * key change leaves the old keys on record. The caller verifies the bundle's
   * signature first; the store only checks the sizes.
   *
   * @param username - checked with {@link validateUsername} before any query
   * @param keys - the raw public keys and their signature
   * @throws ChatError `BAD_USERNAME`, `SERVICE_UNAVAILABLE`; TypeError for keys of the wrong size
   */
  addUserKeys(username: string, keys: StoredKeys): Promise<void>;

  /**
   * A user's current public keys: the newest row wins.
   *
   * @param username - checked with {@link validateUsername} before any query
   * @returns the keys, or `undefined` if none were ever stored for that exact name
   * @throws ChatError `BAD_USERNAME`, `SERVICE_UNAVAILABLE`
   */
  findUserKeys(username: string): Promise<StoredKeys | undefined>;
}

/** A store of users and of their public keys: what the stage 8 server needs. */
export type UserKeyStore = UserStore & PublicKeyStore;

/** A user's public keys as the `user_keys` table holds them (stage 8): raw bytes. */
export interface StoredKeys {
  /** The Ed25519 public key, 32 bytes. */
  signingKey: Buffer;
  /** The X25519 public key, 32 bytes. */
  agreementKey: Buffer;
  /** The Ed25519 signature over the bundle record, 64 bytes. */
  signature: Buffer;
}

/** One registered user, as a store returns it. */
export interface StoredUser {
  /** The username, exactly as registered (a login must match it exactly). */
  username: string;
  /** The bcrypt hash of the password (never the password itself). */
  passwordHash: string;
}

/** The longest accepted username, in characters (= bytes: the allowed set is ASCII). */
export const MAX_USERNAME_LENGTH = 32;

/**
 * The whole username rule as one regular expression. In JavaScript `$` without
 * the `m` flag matches only at the very end, so a trailing newline is rejected.
 */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

/** The longest accepted password hash; a bcrypt hash is 60 characters. */
export const MAX_PASSWORD_HASH_LENGTH = 255;

/**
 * Checks that `value` is a valid username and returns it typed as a string.
 * Call it on anything that came from outside (a decoded frame, argv) before it
 * is used; the stores call it again on every call, as a second line of defence.
 *
 * @param value - anything: a string, or whatever a client put in a JSON field
 * @returns the same string
 * @throws ChatError `BAD_USERNAME` for a non-string, an empty or too long
 *   string, or one with a character outside `A-Z a-z 0-9 _ . -`
 *
 * @example
 * ```ts
 * validateUsername('alice'); //=> 'alice'
 * validateUsername({ username: 1 }); // throws ChatError BAD_USERNAME
 * validateUsername("admin'--"); // throws ChatError BAD_USERNAME
 * ```
 */
export function validateUsername(value: unknown): string {
  if (typeof value !== 'string') {
    // Say what arrived, not its content: the value may be large or hostile.
    throw new ChatError('BAD_USERNAME', `username must be a string, got ${describeType(value)}`);
  }
  if (!USERNAME_PATTERN.test(value)) {
    throw new ChatError(
      'BAD_USERNAME',
      `username must be 1-${MAX_USERNAME_LENGTH} characters from A-Z a-z 0-9 _ . -`,
    );
  }
  return value;
}

/**
 * Checks that `value` looks like a stored password hash: a non-empty string of
 * printable ASCII, at most {@link MAX_PASSWORD_HASH_LENGTH} characters.
 *
 * The hash is produced by our own code, never read from the network, so a bad
 * one is a bug in the caller: it fails loudly with a `TypeError`, not with an
 * error code meant for clients.
 *
 * @param value - the hash to store
 * @returns the same string
 * @throws TypeError if `value` is not such a string
 */
export function validatePasswordHash(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_PASSWORD_HASH_LENGTH ||
    !/^[\x21-\x7e]+$/.test(value)
  ) {
    throw new TypeError(
      `password hash must be a printable ASCII string, got ${describeType(value)}`,
    );
  }
  return value;
}

/**
 * Checks the sizes of public keys about to be stored. Like the password hash,
 * they come from our own code (a bundle the server verified), so a wrong size
 * is a bug: a `TypeError`.
 *
 * @param keys - the keys to store
 * @returns the same keys
 * @throws TypeError if a key is not a Buffer of the right size
 */
export function validateStoredKeys(keys: StoredKeys): StoredKeys {
  const sized = (value: unknown, bytes: number) => Buffer.isBuffer(value) && value.length === bytes;
  if (!sized(keys.signingKey, 32) || !sized(keys.agreementKey, 32) || !sized(keys.signature, 64)) {
    throw new TypeError('public keys must be 32, 32 and 64 bytes');
  }
  return keys;
}

/** `null`, `array`, or the `typeof` name: enough to explain a rejection. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
