/**
 * The user store: one small interface in front of the database, and the
 * function that picks an implementation and loads only that one.
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
import path from 'node:path';
import type { MysqlTuning } from './mysql-user-store';
import type { UserKeyStore, UserStore } from './user-record';

export {
  validateUsername,
  type PublicKeyStore,
  type StoredKeys,
  type StoredUser,
  type UserKeyStore,
  type UserStore,
} from './user-record';

/** The default SQLite file: `.data/chat.sqlite` in the repository (git-ignored). */
export const DEFAULT_SQLITE_PATH = path.resolve(__dirname, '..', '..', '.data', 'chat.sqlite');

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
  return openUserKeyStore(options);
}

/**
 * {@link openUserStore}, typed with the stage 8 public-key methods too (both
 * real stores have them; the stages before 8 never call them).
 *
 * @param options - see {@link OpenUserStoreOptions}
 * @returns an open store of users and their public keys
 * @throws ChatError as {@link openUserStore}
 */
export async function openUserKeyStore(options: OpenUserStoreOptions = {}): Promise<UserKeyStore> {
  // Each driver is loaded only when it is chosen: a SQLite user never loads
  // mysql2, a MySQL user never loads the native better-sqlite3. (`require`,
  // not `import()`: the course runs as CommonJS, where require is the plain
  // way to load a module on demand; `typeof import(...)` only borrows types.)
  if (options.url !== undefined && options.url !== '') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
    const mysqlDriver = require('./mysql-user-store') as typeof import('./mysql-user-store');
    return mysqlDriver.openMysqlUserStore(options.url, options.mysql);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
  const sqliteDriver = require('./sqlite-user-store') as typeof import('./sqlite-user-store');
  return sqliteDriver.openSqliteUserStore(options.sqlitePath ?? DEFAULT_SQLITE_PATH);
}
