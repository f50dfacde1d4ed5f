// A password check that finishes when nobody is waiting for it any more: the
// login deadline has already closed the connection, or the server has begun
// shutting down. The answer is dropped: logged as `login_abandoned`, never as
// `login_ok`, the name is not claimed and nobody joins the room.
//
// The store is wrapped so that a test can hold a lookup until it releases it
// (a gate, not a delay), and the clocks are faked, so the order of events is
// the test's choice, not the machine's speed.
import net from 'node:net';
import { once } from 'node:events';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { LineReader } from '../../shared/test/helpers';
import { sealCredentials, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

/** A store whose next lookup, once `hold()` was called, waits for `release()`. */
interface GatedStore {
  store: UserStore;
  inner: UserStore;
  /** Resolves when the held lookup has started. */
  hold(): Promise<void>;
  release(): void;
}

async function gatedStore(): Promise<GatedStore> {
  const inner = await openUserStore({ sqlitePath: ':memory:' });
  let gate: { entered: () => void; opened: Promise<void> } | undefined;
  let release = () => {};
  const store: UserStore = {
    description: `gated ${inner.description}`,
    createUser: (u, h) => inner.createUser(u, h),
    findUser: async (u) => {
      const held = gate;
      gate = undefined;
      if (held !== undefined) {
        held.entered();
        await held.opened;
      }
      return inner.findUser(u);
    },
    close: () => inner.close(),
  };
  return {
    store,
    inner,
    hold: () =>
      new Promise<void>((entered) => {
        const opened = new Promise<void>((resolve) => (release = resolve));
        gate = { entered, opened };
      }),
    release: () => release(),
  };
}

// Fake only the clocks: sockets and worker threads still need the real
// nextTick, setImmediate and microtasks.
const fakeClocks = () =>
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

let gated: GatedStore;
let t: TestServer;
beforeEach(async () => {
  gated = await gatedStore();
  t = await startTestServer({ store: gated.store, loginTimeoutMs: 30_000 });
  for (const name of ['ann', 'ben']) {
    const conn = await rawConnect(t.port);
    await rawAuth(conn, t.key, 'register', name, `${name}-password`);
    await t.leave(conn.socket, name);
  }
});
afterEach(async () => {
  jest.useRealTimers();
  gated.release();
  await t.close();
  await gated.inner.close();
});

const loggedIn = (conn: unknown) => (r: Record<string, unknown>) =>
  r.conn === conn && r.event === 'login_ok';

test('after LOGIN_TIMEOUT, a late answer is logged as abandoned: no login_ok, nobody joins', async () => {
  const ben = await rawConnect(t.port);
  await rawAuth(ben, t.key, 'login', 'ben', 'ben-password');
  fakeClocks();
  const ann = await rawConnect(t.port);
  const held = gated.hold();
  const box = sealCredentials(t.key, 'login', {
    username: 'ann',
    password: 'ann-password',
    challenge: ann.challenge,
  });
  ann.sendJson({ type: 'login', box });
  await held; // ann's lookup is in the store
  jest.advanceTimersByTime(30_000);
  expect(await ann.frame()).toMatchObject({ type: 'error', code: 'LOGIN_TIMEOUT' });
  await ann.closed;
  const refused = await t.waitForLog((r) => r.event === 'refused' && r.code === 'LOGIN_TIMEOUT');

  // The lookup returns, for a connection that is gone: its comparison, still
  // waiting for a worker, is dropped unrun.
  gated.release();
  expect(
    await t.waitForLog((r) => r.conn === refused.conn && r.event === 'login_abandoned'),
  ).toMatchObject({ user: 'ann', reason: 'closed' });
  expect(t.countLogs(loggedIn(refused.conn))).toBe(0);
  expect(t.server.online).toEqual(['ben']);
  // Ben heard nothing of ann: the answer to his `who` comes after anything queued before it.
  ben.sendJson({ type: 'who' });
  expect(await ben.frame((f) => f.type === 'who')).toEqual({
    type: 'who',
    count: 1,
    online: ['ben'],
  });
  expect(ben.lines.lines.filter((l) => l.includes('"joined"'))).toEqual([]);
  jest.useRealTimers();
  // The name was never claimed: ann logs in at once.
  const again = await rawConnect(t.port);
  expect(await rawAuth(again, t.key, 'login', 'ann', 'ann-password')).toMatchObject({
    type: 'welcome',
  });
  await t.leave(again.socket, 'ann');
  await t.leave(ben.socket, 'ben');
});

test('a login that checks out after shutdown began is abandoned: it gets bye, never welcome', async () => {
  fakeClocks(); // so the 2-second linger of the polite close cannot end the socket first
  // Half-open allowed: this client does not close its side when the server
  // says bye, so the connection is still open when the password checks out.
  const socket = net.connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const lines = new LineReader(socket);
  const hello = JSON.parse(await lines.next()) as { challenge: string };
  const held = gated.hold();
  const box = sealCredentials(t.key, 'login', {
    username: 'ann',
    password: 'ann-password',
    challenge: hello.challenge,
  });
  socket.write(JSON.stringify({ type: 'login', box }) + '\n');
  await held;
  // The only login of this test (the setup registered ann and ben).
  const conn = (await t.waitForLog((r) => r.event === 'auth_started' && r.action === 'login')).conn;

  const closing = t.server.close();
  expect(JSON.parse(await lines.next())).toEqual({ type: 'bye', reason: 'server shutting down' });
  gated.release();
  expect(await t.waitForLog((r) => r.conn === conn && r.event === 'login_abandoned')).toMatchObject(
    { user: 'ann', reason: 'shutdown' },
  );
  expect(t.countLogs(loggedIn(conn))).toBe(0);
  expect(t.server.online).toEqual([]);

  socket.end(); // now the client closes its side, and the shutdown can finish
  await lines.ended;
  await closing;
  expect(lines.lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
    'hello',
    'bye',
  ]);
});
