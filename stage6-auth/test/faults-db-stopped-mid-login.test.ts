// Fault: the database goes away while a login is waiting for it, then
// comes back.
//
// "Goes away" cannot mean stopping the machine's MariaDB: CI and other tests
// share it. The store reaches MariaDB through a TCP proxy this test controls
// (shared/test/tcp-proxy.ts): holding a query at the proxy puts a login in
// flight; `stop()` then resets every connection and refuses new ones, which
// is what the driver sees when the database crashes or restarts; `resume()`
// lets connections through again. (db-outage.test.ts covers logins that
// start while the database is already down; this one catches it mid-query.)
//
// Expected: the login in flight gets SERVICE_UNAVAILABLE at once and is
// closed (not a LOGIN_TIMEOUT after the deadline: the query deadline is set
// longer than the login deadline, so only noticing the lost connection can
// give this answer); logged-in users keep chatting throughout; once the
// database is back, the same user logs in on a new connection and a new user
// registers, without restarting the server.
import type net from 'node:net';
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { uniqueName } from '../../shared/test/user-store-contract';
import {
  chatGetsThrough,
  logIn,
  rawAuth,
  rawConnect,
  startTestServer,
  type TestServer,
} from './harness';

// Longer than any test: a chunk delayed this long is held until the test
// changes the delay or stops the proxy.
const HOLD_MS = 10 * 60_000;

describeWithMysql(
  'stage 6 server, MySQL stopped while a login waits for it',
  mysqlTestUrl(),
  (url) => {
    let proxy: TcpProxy;
    let store: UserStore;
    let t: TestServer;
    const open: net.Socket[] = [];
    beforeAll(async () => {
      const target = parseMysqlUrl(url);
      proxy = await startTcpProxy(target);
      store = await openUserStore({
        url: formatMysqlUrl({ ...target, host: '127.0.0.1', port: proxy.port }),
        mysql: { connectTimeoutMs: 5000, queryTimeoutMs: 120_000 },
      });
      t = await startTestServer({ store, loginTimeoutMs: 20_000 });
    });
    afterAll(async () => {
      for (const socket of open) socket.destroy();
      proxy?.setDelay(0);
      proxy?.resume();
      await t?.close();
      await store?.close();
      await proxy?.close();
    });

    test('the login in flight gets SERVICE_UNAVAILABLE and is closed; chat goes on; logins work after', async () => {
      const [alice, bob, dave, erin] = ['alice', 'bob', 'dave', 'erin'].map(uniqueName) as [
        string,
        string,
        string,
        string,
      ];
      const a = await logIn(t, alice, 'alice-password', true);
      const b = await logIn(t, bob, 'bob-password', true);
      open.push(a.socket, b.socket);
      await t.leave((await logIn(t, dave, 'dave-password', true)).socket, dave);

      // Dave logs in; his look-up reaches the proxy and is held there.
      proxy.setDelay(HOLD_MS);
      const queryInFlight = proxy.nextClientData();
      const victim = await rawConnect(t.port);
      const answer = rawAuth(victim, t.key, 'login', dave, 'dave-password');
      await queryInFlight;
      // The server is waiting on the database: chat does not.
      expect(await chatGetsThrough(t, a, b, 'the database is slow, we are not')).toBe(alice);

      proxy.stop(); // the database "crashes": the connection under the query is reset
      expect(await answer).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
      await victim.closed;
      expect(await chatGetsThrough(t, b, a, 'the database is gone, we are not')).toBe(bob);

      // The database is back: the same user retries on a new connection, and a
      // registration (an INSERT) works too. Same server, same store.
      proxy.setDelay(0);
      proxy.resume();
      const retry = await logIn(t, dave, 'dave-password');
      expect(retry.username).toBe(dave);
      const e = await logIn(t, erin, 'erin-password', true);
      expect(e.online.sort()).toEqual([alice, bob, dave, erin].sort());
      for (const [conn, name] of [
        [retry, dave],
        [e, erin],
        [a, alice],
        [b, bob],
      ] as const) {
        await t.leave(conn.socket, name);
      }
    });
  },
);
