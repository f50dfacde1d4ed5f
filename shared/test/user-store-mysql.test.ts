// The MySQL store against the real server, as the app account `npm run
// db:setup` created: the shared contract, then what only a networked database
// does (start-up errors, going away and coming back, the type-confusion trap).
import mysql from 'mysql2/promise';
import { formatMysqlUrl, parseMysqlUrl } from '../src/mysql-url';
import { openUserKeyStore, openUserStore, type UserStore } from '../src/user-store';
import {
  describeWithMysql,
  mysqlAdminUrl,
  mysqlAdminUrlSetting,
  mysqlTestUrl,
  scratchDatabase,
  type ScratchDatabase,
} from './mysql-env';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { expectCode, fakeHash, uniqueName, userStoreContract } from './user-store-contract';

// Short deadlines, so an outage is noticed quickly; generous enough for a busy CI box.
const FAST = { connectTimeoutMs: 3000, queryTimeoutMs: 3000 };

describeWithMysql('MySQL store', mysqlTestUrl(), (url) => {
  // In a database of its own, made from the committed schema: the contract
  // checks the schema this commit ships, not whatever the shared database has.
  describe('contract (scratch database from stage6-auth/sql/schema.sql)', () => {
    let scratch: ScratchDatabase | undefined;
    beforeAll(async () => {
      scratch = await scratchDatabase(mysqlAdminUrl() ?? mysqlAdminUrlSetting());
    });
    afterAll(() => scratch?.drop());
    userStoreContract(() => openUserKeyStore({ url: scratch!.url }));
  });

  test('describes itself as account@host:port/database, never with the password', async () => {
    const store = await openUserStore({ url });
    const parts = parseMysqlUrl(url);
    expect(store.description).toBe(
      `MySQL ${parts.user}@${parts.host}:${parts.port}/${parts.database}`,
    );
    expect(store.description).not.toContain(parts.password);
    await store.close();
  });

  test('why every value is type-checked: the raw driver lets the number 0 match real users', async () => {
    const store = await openUserStore({ url });
    await store.createUser(uniqueName('zero'), fakeHash(0));
    // MySQL compares a string column with a number as numbers, and 'zero_…' is 0.
    const pool = mysql.createPool(url);
    const [rows] = await pool.execute<mysql.RowDataPacket[]>(
      'SELECT username FROM users WHERE username = ?',
      [0],
    );
    await pool.end();
    expect(rows.length).toBeGreaterThan(0);
    // The store refuses the number before it can reach that comparison.
    await expectCode(store.findUser(0 as unknown as string), 'BAD_USERNAME');
    await store.close();
  });

  test('a wrong password fails at open with SERVICE_UNAVAILABLE, a hint, and no password', async () => {
    const wrong = formatMysqlUrl({ ...parseMysqlUrl(url), password: 'definitely-wrong-pw' });
    const error = await openUserStore({ url: wrong }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // The hint points at the saved file: db:setup prints the URL with its password masked.
    expect((error as Error).message).toMatch(/ER_ACCESS_DENIED_ERROR.*db:setup.*\.data\/mysql-url/);
    expect((error as Error).message).not.toContain('definitely-wrong-pw');
  });

  test('a database the account may not use fails at open with a db:setup hint', async () => {
    const other = formatMysqlUrl({ ...parseMysqlUrl(url), database: 'chat_no_such_db' });
    const error = await openUserStore({ url: other }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((error as Error).message).toContain('db:setup');
  });

  describe('the database goes away and comes back (through a proxy the test controls)', () => {
    let proxy: TcpProxy;
    let store: UserStore;
    beforeEach(async () => {
      const target = parseMysqlUrl(url);
      proxy = await startTcpProxy(target);
      const viaProxy = formatMysqlUrl({ ...target, host: '127.0.0.1', port: proxy.port });
      store = await openUserStore({
        url: viaProxy,
        mysql: { ...FAST, connectionLimit: 2, queueLimit: 3 },
      });
    });
    afterEach(async () => {
      proxy.resume();
      await store.close();
      await proxy.close();
    });

    test('stopped: calls fail fast with SERVICE_UNAVAILABLE; restarted: the same store works again', async () => {
      const name = uniqueName('outage');
      await store.createUser(name, fakeHash('before'));

      proxy.stop(); // every connection reset, new ones refused
      const started = Date.now();
      await expectCode(store.findUser(name), 'SERVICE_UNAVAILABLE');
      await expectCode(store.createUser(uniqueName('during'), fakeHash(1)), 'SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(15_000); // failed, did not hang

      proxy.resume();
      expect((await store.findUser(name))?.passwordHash).toBe(fakeHash('before'));
      const after = uniqueName('after');
      await store.createUser(after, fakeHash('after'));
      expect((await store.findUser(after))?.passwordHash).toBe(fakeHash('after'));
    });

    test('frozen: timeouts turn silence into SERVICE_UNAVAILABLE and the pool does not pile up', async () => {
      const name = uniqueName('frozen');
      await store.createUser(name, fakeHash('before')); // leaves an idle connection in the pool

      proxy.pause(); // connections stay open but nothing moves: only timeouts can tell
      const started = Date.now();
      // Ten at once against a pool of 2 with a queue of 3: the first wait for
      // their deadlines, the rest are refused at once; none waits forever.
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.findUser(name)),
      );
      for (const r of results) {
        expect(r).toMatchObject({ status: 'rejected', reason: { code: 'SERVICE_UNAVAILABLE' } });
      }
      expect(Date.now() - started).toBeLessThan(20_000);

      proxy.resume();
      expect((await store.findUser(name))?.passwordHash).toBe(fakeHash('before'));
    });
  });
});
