/**
 * The user store: one small interface in front of the database, and the
 * function that picks an implementation.
 *
 * Introduced by stage 6. The chat server needs exactly two things from a
 * database: "register this name with this hash, unless it is taken" and "give
 * me the hash for this name". Putting them behind {@link UserStore} lets the
 * same server (and the same contract tests) run on MySQL, which the course
 * teaches, or on an embedded SQLite file, so `npm run stage6` works on a
 * machine with no database server.
 *
 * Two rules every implementation follows:
 * - uniqueness comes from a UNIQUE constraint in the database, never from
 *   "look the name up, then insert": between the look-up and the insert
 *   another connection can register the same name. With the constraint, of
 *   many concurrent registrations exactly one succeeds.
 * - every value is type-checked ({@link validateUsername}) before any query.
 *
 * @module
 */
import { openMysqlUserStore, type MysqlTuning } from './mysql-user-store';
import { DEFAULT_SQLITE_PATH, openSqliteUserStore } from './sqlite-user-store';
import type { StoredUser } from './user-record';

export { validateUsername, type StoredUser } from './user-record';
export { DEFAULT_SQLITE_PATH } from './sqlite-user-store';

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

/** Options for {@link openUserStore}. */
export interface OpenUserStoreOptions {
  /**
   * A MySQL URL, `mysql://user:password@host:port/database` (what
   * `npm run db:setup` prints; usually `process.env.CHAT_DB_URL`). When set,
   * the store is MySQL; when unset, SQLite.
   */
  url?: string;
  /** The SQLite file (default {@link DEFAULT_SQLITE_PATH}); `':memory:'` for tests. */
  sqlitePath?: string;
  /** MySQL only: timeouts and pool limits (tests shorten the timeouts). */
  mysql?: Partial<MysqlTuning>;
}

/**
 * Opens the store the configuration asks for: MySQL when `url` is set,
 * otherwise the embedded SQLite file (created, with its folder, if missing).
 * A MySQL store checks at once that it can reach its table, so a wrong URL or
 * a forgotten `npm run db:setup` fails at start-up with a clear message rather
 * than at the first login.
 *
 * @param options - see {@link OpenUserStoreOptions}
 * @returns an open store; call `close()` when done
 * @throws ChatError `BAD_ARGUMENT` for a malformed URL, `SERVICE_UNAVAILABLE`
 *   if the database cannot be opened or reached
 *
 * @example
 * ```ts
 * const store = await openUserStore({ url: process.env.CHAT_DB_URL });
 * console.log(`users: ${store.description}`); //=> users: SQLite file .data/chat.sqlite
 * ```
 */
export async function openUserStore(options: OpenUserStoreOptions = {}): Promise<UserStore> {
  if (options.url !== undefined && options.url !== '') {
    return openMysqlUserStore(options.url, options.mysql);
  }
  return openSqliteUserStore(options.sqlitePath ?? DEFAULT_SQLITE_PATH);
}
