/**
 * The embedded user store: one SQLite file, through better-sqlite3.
 *
 * Introduced by stage 6, as the default when `CHAT_DB_URL` is unset, so
 * `npm run stage6` works on a machine with no database server. Why
 * better-sqlite3, and why version 12: it is the most used and best kept SQLite
 * binding for Node; version 13 needs Node 22 and this course supports Node 20.
 *
 * better-sqlite3 is *synchronous*: a query blocks the event loop while it
 * runs. That sounds like the stage 3 mistake, but a primary-key look-up or a
 * one-row insert in a local file takes microseconds, far less than the
 * bookkeeping an async driver would add. Slow work (bcrypt) runs in worker
 * threads instead; the store's methods still return promises, so the server
 * cannot tell this store from the MySQL one.
 *
 * The table is created here when missing (an embedded file has no separate
 * admin step), and so is the index that makes names unique ignoring case, on
 * files made before it existed too. The file is created with mode 0600 in a
 * 0700 folder: it holds password hashes.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ChatError, isChatError } from './errors';
import { makePrivateFolder } from './private-file';
import {
  validatePasswordHash,
  validateStoredKeys,
  validateUsername,
  type StoredKeys,
  type StoredUser,
  type UserKeyStore,
} from './user-record';

// Two uniqueness rules. The column compares bytes (BINARY, SQLite's default),
// so a login must give the name exactly as registered, as in the MySQL store.
// The second index compares ignoring the case of A-Z (NOCASE: all a username
// may hold), so `Alice` cannot be registered while `alice` exists: two names
// that differ only by case in one room are an impersonation kit. It is a
// separate statement so that files made before it existed get it too.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT users_username_unique UNIQUE (username)
  );
  CREATE UNIQUE INDEX IF NOT EXISTS users_username_nocase ON users (username COLLATE NOCASE);
  CREATE TABLE IF NOT EXISTS user_keys (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    signing_key   BLOB    NOT NULL,
    agreement_key BLOB    NOT NULL,
    signature     BLOB    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
  );
  CREATE INDEX IF NOT EXISTS user_keys_newest ON user_keys (username, id);`;

// Stage 8's public keys, append-only: a key change is a new row and the
// newest row (highest id) wins, so the history stays on record. (SQLite has
// no grants; the MySQL schema is where "the app may only SELECT and INSERT"
// is enforced.)

/**
 * Opens (creating if needed) a SQLite user store.
 *
 * @param file - the database file, or `':memory:'` for a private in-memory database
 * @returns the open store
 * @throws ChatError `SERVICE_UNAVAILABLE` if the file cannot be created or opened,
 *   `BAD_ARGUMENT` if a file stands where its folder should be
 */
export async function openSqliteUserStore(file: string): Promise<UserKeyStore> {
  return new SqliteUserStore(file);
}

interface KeyRow {
  signing_key: Buffer;
  agreement_key: Buffer;
  signature: Buffer;
}

/** A {@link UserStore} backed by one SQLite file. */
class SqliteUserStore implements UserKeyStore {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string]>;
  private readonly select: Database.Statement<
    [string],
    { username: string; password_hash: string }
  >;
  private readonly insertKeys: Database.Statement<[string, Buffer, Buffer, Buffer]>;
  private readonly selectKeys: Database.Statement<[string], KeyRow>;
  private closed = false;

  constructor(file: string) {
    const memory = file === ':memory:';
    this.description = memory ? 'SQLite in memory' : `SQLite file ${displayPath(file)}`;
    try {
      if (!memory) createPrivateFile(file);
      // `timeout`: when another connection holds the write lock, wait this
      // long (ms) before failing with SQLITE_BUSY.
      this.db = new Database(file, { timeout: 2000 });
      // WAL: readers do not block the writer and the writer does not block
      // readers, and a commit is one append instead of two writes.
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
    } catch (err) {
      if (isChatError(err)) throw err; // a file where the folder should be: the operator's to fix
      const why = sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE' ? caseClashes(file) : reason(err);
      throw new ChatError('SERVICE_UNAVAILABLE', `cannot open ${this.description}: ${why}`);
    }
    // Prepared once, run many times; `?` placeholders, never string building.
    // The look-up uses the NOCASE index; the exact spelling is checked after.
    this.insert = this.db.prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)');
    this.select = this.db.prepare(
      'SELECT username, password_hash FROM users WHERE username = ? COLLATE NOCASE',
    );
    this.insertKeys = this.db.prepare(
      'INSERT INTO user_keys (username, signing_key, agreement_key, signature) VALUES (?, ?, ?, ?)',
    );
    this.selectKeys = this.db.prepare(
      'SELECT signing_key, agreement_key, signature FROM user_keys WHERE username = ? ORDER BY id DESC LIMIT 1',
    );
  }

  async addUserKeys(username: string, keys: StoredKeys): Promise<void> {
    const name = validateUsername(username);
    const { signingKey, agreementKey, signature } = validateStoredKeys(keys);
    this.assertOpen();
    try {
      this.insertKeys.run(name, signingKey, agreementKey, signature);
    } catch (err) {
      throw new ChatError('SERVICE_UNAVAILABLE', `user database failed: ${reason(err)}`);
    }
  }

  async findUserKeys(username: string): Promise<StoredKeys | undefined> {
    const name = validateUsername(username);
    this.assertOpen();
    let row: KeyRow | undefined;
    try {
      row = this.selectKeys.get(name);
    } catch (err) {
      throw new ChatError('SERVICE_UNAVAILABLE', `user database failed: ${reason(err)}`);
    }
    return row === undefined
      ? undefined
      : { signingKey: row.signing_key, agreementKey: row.agreement_key, signature: row.signature };
  }

  async createUser(username: string, passwordHash: string): Promise<void> {
    const name = validateUsername(username);
    const hash = validatePasswordHash(passwordHash);
    this.assertOpen();
    try {
      this.insert.run(name, hash);
    } catch (err) {
      // The UNIQUE constraint, not a prior look-up, decides who gets the name.
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ChatError('NAME_TAKEN', `the username "${name}" is already registered`);
      }
      throw new ChatError('SERVICE_UNAVAILABLE', `user database failed: ${reason(err)}`);
    }
  }

  async findUser(username: string): Promise<StoredUser | undefined> {
    const name = validateUsername(username);
    this.assertOpen();
    let row: { username: string; password_hash: string } | undefined;
    try {
      row = this.select.get(name);
    } catch (err) {
      throw new ChatError('SERVICE_UNAVAILABLE', `user database failed: ${reason(err)}`);
    }
    // Found ignoring case; a login still needs the name exactly as registered.
    return row === undefined || row.username !== name
      ? undefined
      : { username: row.username, passwordHash: row.password_hash };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ChatError('SERVICE_UNAVAILABLE', 'the user store is closed');
  }
}

/**
 * Creates the folder (0700) and an empty file (0600) before SQLite opens it:
 * SQLite would create the file with the default mode (often world-readable),
 * and it gives its `-wal` and `-shm` files the main file's mode.
 */
function createPrivateFile(file: string): void {
  makePrivateFolder(file);
  fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
}

/**
 * Why the NOCASE index cannot be built on an older file: names in it that
 * differ only by case (registered before the rule existed), for the operator
 * to rename or remove.
 */
function caseClashes(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT group_concat(username, ' and ') AS names FROM users
         GROUP BY username COLLATE NOCASE HAVING count(*) > 1 LIMIT 3`,
      )
      .all() as { names: string }[];
    return `usernames differ only by case (${rows.map((r) => r.names).join('; ')}); rename or remove all but one of each before starting`;
  } finally {
    db.close();
  }
}

/** The path relative to the working directory when it is inside it, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
    ? relative
    : file;
}

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function reason(err: unknown): string {
  return sqliteCode(err) ?? (err instanceof Error ? err.message : String(err));
}
