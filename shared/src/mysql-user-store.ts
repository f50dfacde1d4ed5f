/**
 * The MySQL user store: mysql2's promise pool, prepared statements, timeouts.
 *
 * Introduced by stage 6. What each choice guards against:
 * - `execute` with `?` placeholders only: the server receives the SQL and the
 *   values separately, so no value is ever parsed as SQL. Values are still
 *   type-checked first (see {@link validateUsername}): a number bound to `?`
 *   makes MySQL compare `'alice' = 0` as numbers, which is true.
 * - a pool with `connectionLimit` and `queueLimit`: at most that many
 *   connections, and when the database is dead the requests waiting for one
 *   are bounded too, instead of piling up in memory.
 * - `connectTimeout`, a per-query `timeout`, and our own deadlines on getting
 *   a connection from the pool and on the whole statement (mysql2's `timeout`
 *   does not cover the PREPARE step of `execute`, which a test caught
 *   hanging): a database that stops answering turns into a quick
 *   `SERVICE_UNAVAILABLE`, never a login that hangs forever.
 * - a connection whose query timed out or whose socket failed is destroyed,
 *   not returned to the pool: its state is unknown (mysql2 leaves a timed-out
 *   query queued on it). The pool opens fresh connections on demand, which is
 *   how the store recovers by itself when the database comes back.
 *
 * @module
 */
import mysql from 'mysql2/promise';
import { withDeadline } from './deadline';
import { ChatError } from './errors';
import { databaseUnavailable, isSqlError, mysqlErrorCode, startupHint } from './mysql-errors';
import { describeMysqlUrl, parseMysqlUrl } from './mysql-url';
import {
  validatePasswordHash,
  validateStoredKeys,
  validateUsername,
  type StoredKeys,
  type StoredUser,
  type UserKeyStore,
} from './user-record';

/** Timeouts and pool limits of a MySQL store. */
export interface MysqlTuning {
  /** Longest wait to open a connection or get one from the pool, ms (default 5000). */
  connectTimeoutMs: number;
  /** Longest wait for a query's answer, ms (default 5000). */
  queryTimeoutMs: number;
  /** Most connections open at once (default 10). */
  connectionLimit: number;
  /** Most requests waiting for a connection; more fail at once (default 100). */
  queueLimit: number;
}

/** The defaults of {@link MysqlTuning}. */
export const DEFAULT_MYSQL_TUNING: Readonly<MysqlTuning> = {
  connectTimeoutMs: 5000,
  queryTimeoutMs: 5000,
  connectionLimit: 10,
  queueLimit: 100,
};

/**
 * Opens a MySQL user store and checks that it can read its table.
 *
 * @param url - `mysql://user:password@host:port/database`
 * @param tuning - overrides of {@link DEFAULT_MYSQL_TUNING}
 * @returns the open store
 * @throws ChatError `BAD_ARGUMENT` for a malformed URL, `SERVICE_UNAVAILABLE`
 *   (with a hint) if the database cannot be reached or the table read
 */
export async function openMysqlUserStore(
  url: string,
  tuning: Partial<MysqlTuning> = {},
): Promise<UserKeyStore> {
  const store = new MysqlUserStore(url, { ...DEFAULT_MYSQL_TUNING, ...tuning });
  try {
    await store.check();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

type UserRow = mysql.RowDataPacket & { username: string; password_hash: string };
type KeyRow = mysql.RowDataPacket & {
  signing_key: Buffer;
  agreement_key: Buffer;
  signature: Buffer;
};

/** A {@link UserStore} on a mysql2 connection pool. */
class MysqlUserStore implements UserKeyStore {
  readonly description: string;
  private readonly pool: mysql.Pool;
  private closed = false;

  constructor(
    url: string,
    private readonly tuning: MysqlTuning,
  ) {
    const parts = parseMysqlUrl(url);
    if (parts.database === undefined) {
      throw new ChatError(
        'BAD_ARGUMENT',
        'database URL needs a database: mysql://USER:PASS@HOST:PORT/DB',
      );
    }
    this.description = `MySQL ${describeMysqlUrl(parts)}`;
    this.pool = mysql.createPool({
      host: parts.host,
      port: parts.port,
      user: parts.user,
      password: parts.password,
      database: parts.database,
      connectTimeout: tuning.connectTimeoutMs,
      connectionLimit: tuning.connectionLimit,
      queueLimit: tuning.queueLimit,
      waitForConnections: true,
      // Notice a peer that vanished without closing the connection.
      enableKeepAlive: true,
    });
  }

  async createUser(username: string, passwordHash: string): Promise<void> {
    const name = validateUsername(username);
    const hash = validatePasswordHash(passwordHash);
    try {
      await this.run('INSERT INTO users (username, password_hash) VALUES (?, ?)', [name, hash]);
    } catch (err) {
      // The UNIQUE constraint decides: ER_DUP_ENTRY means someone else got it.
      if (mysqlErrorCode(err) === 'ER_DUP_ENTRY') {
        throw new ChatError('NAME_TAKEN', `the username "${name}" is already registered`);
      }
      throw databaseUnavailable(err);
    }
  }

  async findUser(username: string): Promise<StoredUser | undefined> {
    const name = validateUsername(username);
    let rows: UserRow[];
    try {
      rows = await this.run<UserRow[]>(
        'SELECT username, password_hash FROM users WHERE username = ?',
        [name],
      );
    } catch (err) {
      throw databaseUnavailable(err);
    }
    // The column ignores case (so a look-alike cannot be registered); a
    // login still needs the name exactly as registered.
    const row = rows[0];
    return row === undefined || row.username !== name
      ? undefined
      : { username: row.username, passwordHash: row.password_hash };
  }

  // Stage 8's keys, append-only: the app account may INSERT and SELECT on
  // user_keys and nothing else, so a key change is a new row and the old
  // keys stay on record. The newest row (highest id) wins.
  async addUserKeys(username: string, keys: StoredKeys): Promise<void> {
    const name = validateUsername(username);
    const { signingKey, agreementKey, signature } = validateStoredKeys(keys);
    try {
      await this.run(
        'INSERT INTO user_keys (username, signing_key, agreement_key, signature) VALUES (?, ?, ?, ?)',
        [name, signingKey, agreementKey, signature],
      );
    } catch (err) {
      throw databaseUnavailable(err);
    }
  }

  async findUserKeys(username: string): Promise<StoredKeys | undefined> {
    const name = validateUsername(username);
    let rows: KeyRow[];
    try {
      rows = await this.run<KeyRow[]>(
        'SELECT signing_key, agreement_key, signature FROM user_keys WHERE username = ? ORDER BY id DESC LIMIT 1',
        [name],
      );
    } catch (err) {
      throw databaseUnavailable(err);
    }
    const row = rows[0];
    return row === undefined
      ? undefined
      : { signingKey: row.signing_key, agreementKey: row.agreement_key, signature: row.signature };
  }

  /** Reads nothing from the table, to prove the URL, the grant and the table are right. */
  async check(): Promise<void> {
    try {
      await this.run('SELECT username FROM users LIMIT 0', []);
    } catch (err) {
      throw databaseUnavailable(err, ` (${this.description}; ${startupHint(err)})`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // end() says goodbye on every connection; a dead peer may never answer.
    await withDeadline(this.pool.end(), this.tuning.connectTimeoutMs).catch(() => {});
  }

  /** Runs one prepared statement on a connection of its own, within the deadlines. */
  private async run<T>(sql: string, values: (string | Buffer)[]): Promise<T> {
    if (this.closed) throw new ChatError('SERVICE_UNAVAILABLE', 'the user store is closed');
    const connection = await withDeadline(
      this.pool.getConnection(),
      this.tuning.connectTimeoutMs,
      // Given up on, but it arrived: hand it back (or close it, if we are closed).
      (late) => (this.closed ? destroyConnection(late) : late.release()),
    );
    try {
      // mysql2's `timeout` covers the execute round trip only, not the PREPARE
      // it sends first the first time a connection sees a statement; our own
      // deadline covers both.
      const [result] = await withDeadline(
        connection.execute({ sql, timeout: this.tuning.queryTimeoutMs }, values),
        this.tuning.queryTimeoutMs,
      );
      connection.release();
      return result as T;
    } catch (err) {
      // An SQL error (it has an sqlState) leaves the connection usable; any
      // other failure (timeout, lost socket) leaves it in an unknown state.
      if (isSqlError(err)) connection.release();
      else destroyConnection(connection);
      throw err;
    }
  }
}

/**
 * Takes a connection out of the pool and closes its socket at once.
 * mysql2's `destroy()` only half-closes the socket (`end()`), so a PREPARE
 * that timed out can still be answered later and start the next command.
 */
function destroyConnection(connection: mysql.PoolConnection): void {
  connection.destroy();
  const core = connection.connection as unknown as { stream?: { destroy?: () => void } };
  core.stream?.destroy?.();
}
