// A login whose answer comes when nobody is waiting for it any more: its
// client left while the password was being checked, or the server began
// shutting down. It must claim nothing: no `login_ok`, no ghost member
// holding the name for good, nothing sent after `bye`; and what the attempt
// held (its rate-limit permit, its place under the connection caps) is free
// again. Stage 6 (late-answers.test.ts) and stage 8 (login-abandoned.test.ts)
// test the same rule; here it is `logIn`'s last check before the claim
// (login.ts) that is attacked: without it, the name is claimed for a
// connection that is gone, and its user is "already logged in" until the
// server restarts.
//
// The test holds each answer of the hashing worker (a gate, not a delay:
// the harness's `hashDone`) until it has made the connection go, and fakes
// the clocks, so the order of events is the test's choice, not the machine's.
import { DEFAULT_LOGIN_TIMEOUT_MS } from '../src/server';
import { PASSWORD, rawTls, startTestServer, type RawTls, type TestServer } from './harness';

/** A held hashing answer: `reached` once the job has run, `release` to hand it to the server. */
interface Hold {
  reached: Promise<void>;
  release: () => void;
}

let t: TestServer;
const clients: RawTls[] = [];
let armed: { enter: () => void; released: Promise<void> } | undefined;
let releaseHeld = () => {};

// The harness calls it as each hashing job finishes: the next one, once
// armed, waits until the test releases it.
function hashDone(): Promise<void> | undefined {
  const hold = armed;
  armed = undefined;
  if (hold === undefined) return undefined;
  hold.enter();
  return hold.released;
}

function holdNextHash(): Hold {
  let enter!: () => void;
  const reached = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (releaseHeld = resolve));
  armed = { enter, released };
  return { reached, release: () => releaseHeld() };
}

/** A raw TLS client, destroyed after the test (a failed test must not wait for its close). */
async function connect(): Promise<RawTls> {
  const raw = await rawTls(t.port);
  clients.push(raw);
  return raw;
}

// Fake only the clocks: sockets and worker threads still need the real
// nextTick, setImmediate and microtasks.
const fakeClocks = () =>
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

beforeEach(async () => {
  armed = undefined;
  // One place per address for connections not logged in: an attempt that
  // kept its place would lock its own address out.
  t = await startTestServer({ hashDone, maxPreLoginPerAddress: 1 });
  const alice = await connect();
  alice.send({ type: 'register', user: 'alice', password: PASSWORD });
  expect(await alice.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
  alice.socket.destroy();
  await t.waitForLog((r) => r.event === 'disconnect' && r.user === 'alice');
});
afterEach(async () => {
  jest.useRealTimers();
  releaseHeld();
  for (const raw of clients.splice(0)) raw.socket.destroy();
  await t.close();
});

test.each([
  ['login', 'alice'],
  ['register', 'bob'],
] as const)(
  'a %s whose client leaves while its password is being checked claims nothing: no ghost; the name, permit and place are free',
  async (type, user) => {
    fakeClocks();
    const hold = holdNextHash();
    const raw = await connect();
    raw.send({ type, user, password: PASSWORD });
    await hold.reached; // bcrypt has run: for the server, the password is still being checked
    raw.socket.destroy();
    // A client gone without a word: the server, which reads nothing while a
    // password is checked, hears of it at the login deadline.
    jest.advanceTimersByTime(DEFAULT_LOGIN_TIMEOUT_MS);
    const { conn } = await t.waitForLog((r) => r.event === 'refused' && r.code === 'LOGIN_TIMEOUT');
    // Its close is handled (session ended, place counted out) before the answer arrives.
    await t.waitForLog((r) => r.conn === conn && r.event === 'disconnect');
    hold.release();
    const outcome = await t.waitForLog(
      (r) => r.conn === conn && (r.event === `${type}_ok` || r.event === `${type}_abandoned`),
    );
    expect(outcome).toMatchObject({ event: `${type}_abandoned`, user, reason: 'closed' });
    expect(t.server.online).toEqual([]);

    jest.useRealTimers();
    // The same user at once, from the same address: the name was not claimed
    // (no ALREADY_LOGGED_IN), the permit was settled (no RATE_LIMITED for an
    // attempt "still being checked") and the one place is free.
    const again = await connect();
    again.send({ type: 'login', user, password: PASSWORD });
    expect(await again.next()).toEqual(expect.objectContaining({ type: 'welcome', user }));
    expect(t.server.online).toEqual([user]);
  },
);

test('a login whose password checks out after shutdown began is abandoned: it gets bye, never welcome', async () => {
  fakeClocks(); // so the 2-second linger of the polite close cannot end the socket first
  const connected = t.nextLog((r) => r.event === 'connect');
  const raw = await connect();
  // Half-open allowed: this client does not close its side when the server
  // says bye, so the connection is still open when the password checks out.
  raw.socket.allowHalfOpen = true;
  const { conn } = await connected;
  const hold = holdNextHash();
  raw.send({ type: 'login', user: 'alice', password: PASSWORD });
  await hold.reached;

  const closing = t.server.close();
  expect(await raw.next()).toEqual({ type: 'bye', reason: 'server shutting down' });
  hold.release();
  expect(
    await t.waitForLog(
      (r) => r.conn === conn && (r.event === 'login_ok' || r.event === 'login_abandoned'),
    ),
  ).toMatchObject({ event: 'login_abandoned', user: 'alice', reason: 'shutdown' });
  expect(t.server.online).toEqual([]);

  raw.socket.end(); // now the client closes its side, and the shutdown can finish
  await closing;
  expect(await raw.next()).toBeUndefined(); // nothing after bye: no welcome, no ticket
});
