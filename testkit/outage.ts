/**
 * A user store that the test can take away and bring back: the two ways
 * the stage 6 and stage 7 outage tests break a database mid-run.
 *
 * - {@link mysqlBehindProxy}: the real MySQL, reached through a TCP proxy
 *   the test stops and resumes, so the driver sees a real refused or
 *   broken connection.
 * - {@link flakyStore}: an in-memory SQLite store wrapped to throw what the
 *   MySQL store throws when its server refuses, so the server's side of an
 *   outage is tested on a machine without MySQL too.
 *
 * @module
 */
import { databaseUnavailable } from '../shared/src/mysql-errors';
import { formatMysqlUrl, parseMysqlUrl } from '../shared/src/mysql-url';
import { openUserStore, type UserStore } from '../shared/src/user-store';
import { startTcpProxy } from '../shared/test/tcp-proxy';

/** What a database failure's message says that a client must never hear. */
export const DRIVER_DETAIL =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|PROTOCOL_|ER_[A-Z_]+|unreachable|database/;

/** A store, and the switches that break and repair the database behind it. */
export interface BreakableStore {
  /** The store to hand to the server. */
  store: UserStore;
  /** Takes the database away. */
  down(): void;
  /** Brings it back. */
  up(): void;
  /** Closes the store and whatever stands behind it. */
  close(): Promise<void>;
}

/**
 * The MySQL at `url`, reached through a proxy that `down()` stops and `up()`
 * resumes. The deadlines are short so an outage is noticed quickly, and
 * generous enough for a busy machine.
 */
export async function mysqlBehindProxy(url: string): Promise<BreakableStore> {
  const target = parseMysqlUrl(url);
  const proxy = await startTcpProxy(target);
  const store = await openUserStore({
    url: formatMysqlUrl({ ...target, host: '127.0.0.1', port: proxy.port }),
    mysql: { connectTimeoutMs: 2000, queryTimeoutMs: 2000 },
  }).catch(async (err: unknown) => {
    await proxy.close();
    throw err;
  });
  return {
    store,
    down: () => proxy.stop(),
    up: () => proxy.resume(),
    close: async () => {
      await store.close();
      await proxy.close();
    },
  };
}

/**
 * An in-memory store that, between `down()` and `up()`, throws exactly what
 * the MySQL store throws when its server refuses the connection.
 */
export async function flakyStore(): Promise<BreakableStore> {
  const inner = await openUserStore({ sqlitePath: ':memory:' });
  let available = true;
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
    code: 'ECONNREFUSED',
  });
  const check = () => {
    if (!available) throw databaseUnavailable(refused);
  };
  const store: UserStore = {
    description: `flaky ${inner.description}`,
    createUser: async (u, h) => (check(), inner.createUser(u, h)),
    findUser: async (u) => (check(), inner.findUser(u)),
    close: () => inner.close(),
  };
  return {
    store,
    down: () => (available = false),
    up: () => (available = true),
    close: () => inner.close(),
  };
}
