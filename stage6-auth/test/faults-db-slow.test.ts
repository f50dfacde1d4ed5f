// Fault: the database answers, but slowly.
//
// The store reaches MariaDB through a TCP proxy this test controls
// (shared/test/tcp-proxy.ts) whose `setDelay(ms)` holds every chunk, in both
// directions, for that long before passing it on, in order. To look at the
// chat while a login is in flight, a test first holds the login's query
// (a delay longer than any test), then lowers the delay.
//
// Expected, on each side of the deadlines (all short, set per server):
// - slower than usual but within the deadlines: logins and registrations
//   succeed;
// - slower than the store's query deadline: that login gets
//   SERVICE_UNAVAILABLE and is closed;
// - slower than the server's login deadline: that connection gets
//   LOGIN_TIMEOUT and is closed, and the answer that arrives later does not
//   leave the user marked online;
// and in every case the logged-in users' chat goes on while the login waits,
// and logins work again once the database is fast again.
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import type { MysqlTuning } from '../../shared/src/mysql-user-store';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { uniqueName } from '../../shared/test/user-store-contract';
import type { LoggedIn } from '../src/client-login';
import type { ServerFrame } from '../src/messages';
import type { ServerOptions } from '../src/server';
import {
  chatGetsThrough,
  logIn,
  rawAuth,
  rawConnect,
  startTestServer,
  type TestServer,
} from './harness';

// Longer than any test: a chunk delayed this long is held until the delay changes.
const HOLD_MS = 10 * 60_000;
// "Slow": a tenth of a second per chunk each way, far below the deadlines
// below, so the outcome does not depend on how busy the machine is.
const SLOW_MS = 100;

interface Setup {
  proxy: TcpProxy;
  store: UserStore;
  t: TestServer;
  /** Two users logged in before the database slows down. */
  alice: LoggedIn;
  bob: LoggedIn;
  /** A registered user who is not logged in. */
  dave: string;
}

describeWithMysql('stage 6 server, MySQL slow to answer', mysqlTestUrl(), (url) => {
  let s: Setup | undefined;
  const setUp = async (tuning: Partial<MysqlTuning>, options: Partial<ServerOptions> = {}) => {
    const target = parseMysqlUrl(url);
    const proxy = await startTcpProxy(target);
    const store = await openUserStore({
      url: formatMysqlUrl({ ...target, host: '127.0.0.1', port: proxy.port }),
      mysql: { connectTimeoutMs: 5000, ...tuning },
    });
    const t = await startTestServer({ store, ...options });
    // Recorded before the users log in, so afterEach cleans up even if that fails.
    s = { proxy, store, t } as Setup;
    const [alice, bob, dave] = ['alice', 'bob', 'dave'].map(uniqueName) as [string, string, string];
    s.alice = await logIn(t, alice, 'alice-password', true);
    s.bob = await logIn(t, bob, 'bob-password', true);
    await t.leave((await logIn(t, dave, 'dave-password', true)).socket, dave);
    s.dave = dave;
    return s;
  };
  afterEach(async () => {
    if (!s) return;
    const { proxy, store, t } = s;
    s = undefined;
    proxy.setDelay(0);
    await t?.close();
    await store?.close();
    await proxy?.close();
  });

  /** Starts a login that is held at the proxy, and waits until its query is there. */
  const heldLogin = async (setup: Setup, username: string, password: string) => {
    setup.proxy.setDelay(HOLD_MS);
    const queryInFlight = setup.proxy.nextClientData();
    const conn = await rawConnect(setup.t.port);
    const answer: Promise<ServerFrame> = rawAuth(conn, setup.t.key, 'login', username, password);
    await queryInFlight;
    return { conn, answer };
  };

  test('within the deadlines: slow logins and registrations succeed, and chat goes on meanwhile', async () => {
    const { proxy, t, alice, bob, dave } = await setUp(
      { queryTimeoutMs: 20_000 },
      { loginTimeoutMs: 30_000 },
    );
    let answered = false;
    const { answer } = await heldLogin(s!, dave, 'dave-password');
    void answer.then(() => (answered = true));
    expect(await chatGetsThrough(t, alice, bob, 'we do not wait for the database')).toBe(
      alice.username,
    );
    expect(answered).toBe(false); // the chat went by while the login was held

    proxy.setDelay(SLOW_MS); // the held query goes on, every chunk slowed down
    expect(await answer).toMatchObject({ type: 'welcome', user: dave });
    const erin = uniqueName('erin');
    const e = await logIn(t, erin, 'erin-password', true); // an INSERT, slowly
    expect(e.online).toContain(erin);
    expect(await chatGetsThrough(t, bob, e, 'welcome, erin')).toBe(bob.username);
    await t.leave(e.socket, erin);
    await t.leave(alice.socket, alice.username);
    await t.leave(bob.socket, bob.username);
  });

  test("beyond the store's query deadline: SERVICE_UNAVAILABLE for that login only; fine once fast again", async () => {
    const { proxy, t, alice, bob, dave } = await setUp(
      { queryTimeoutMs: 3000 },
      { loginTimeoutMs: 60_000 },
    );
    const { conn, answer } = await heldLogin(s!, dave, 'dave-password');
    expect(await chatGetsThrough(t, alice, bob, 'still talking')).toBe(alice.username);
    const refused = await answer; // the query deadline fires (the login deadline is far off)
    expect(refused).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    await conn.closed;
    expect(await chatGetsThrough(t, bob, alice, 'still here')).toBe(bob.username);

    proxy.setDelay(0);
    const again = await logIn(t, dave, 'dave-password');
    expect(again.username).toBe(dave);
    await t.leave(again.socket, dave);
    await t.leave(alice.socket, alice.username);
    await t.leave(bob.socket, bob.username);
  });

  test("beyond the server's login deadline: LOGIN_TIMEOUT; the late answer does not leave the user online", async () => {
    const { proxy, t, alice, bob, dave } = await setUp(
      { queryTimeoutMs: 120_000 },
      { loginTimeoutMs: 5000 },
    );
    const { conn, answer } = await heldLogin(s!, dave, 'dave-password');
    expect(await chatGetsThrough(t, alice, bob, 'still talking')).toBe(alice.username);
    expect(await answer).toMatchObject({ type: 'error', code: 'LOGIN_TIMEOUT' });
    await conn.closed;
    const timedOut = await t.waitForLog((r) => r.event === 'refused' && r.code === 'LOGIN_TIMEOUT');

    // The database answers at last: the password checks out for a connection
    // that is gone. The server must let the name go again.
    proxy.setDelay(0);
    await t.waitForLog((r) => r.conn === timedOut.conn && r.event === 'login_abandoned');
    // Had the name stayed claimed, this would be refused with ALREADY_LOGGED_IN.
    const again = await logIn(t, dave, 'dave-password');
    expect(again.username).toBe(dave);
    expect(await chatGetsThrough(t, again, bob, 'made it')).toBe(dave);
    await t.leave(again.socket, dave);
    await t.leave(alice.socket, alice.username);
    await t.leave(bob.socket, bob.username);
  });
});
