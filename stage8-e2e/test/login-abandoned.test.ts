// A login whose connection closes while the server is still busy with it
// must claim nothing. Stage 8's login has one more await than stage 7's,
// after the password check: publishing the key bundle. The tests hold that
// step, or the password check itself, until the client is gone, then let
// it finish, on a real server.
import { once } from 'node:events';
import path from 'node:path';
import { encodeKeyBundle, generateIdentity, type Identity } from '../../shared/src/identity-keys';
import { KnownServers } from '../../shared/src/known-servers';
import { LineReader } from '../../shared/test/helpers';
import { connectPinned } from '../../shared/src/tls-client';
import type { UserKeyStore } from '../../shared/src/user-store';
import { ALPN_PROTOCOL, encodeClientFrame } from '../src/messages';
import { DEFAULT_LOGIN_TIMEOUT_MS } from '../src/server';
import { join, PASSWORD, startTestServer, type TestMember, type TestServer } from './harness';

jest.setTimeout(60_000);

/** A held store call: `reached` once the server is waiting in it, `release` to let it go on. */
interface Hold {
  reached: Promise<void>;
  release: () => void;
}

let t: TestServer;
let held: { enter: () => void; released: Promise<void> } | undefined;
const members: TestMember[] = [];

// The real store, except that the next `findUserKeys` (the first step of
// publishing a login's keys) waits, once armed, until the test releases it.
const holdingKeys = (store: UserKeyStore): UserKeyStore => ({
  description: `held ${store.description}`,
  createUser: (username, hash) => store.createUser(username, hash),
  findUser: (username) => store.findUser(username),
  addUserKeys: (username, keys) => store.addUserKeys(username, keys),
  findUserKeys: async (username) => {
    const hold = held;
    held = undefined;
    if (hold !== undefined) {
      hold.enter();
      await hold.released;
    }
    return store.findUserKeys(username);
  },
  close: () => store.close(),
});

function holdNextKeyLookUp(): Hold {
  let enter!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  held = { enter, released };
  return { reached, release };
}

beforeEach(async () => {
  held = undefined;
  t = await startTestServer(undefined, { wrapStore: holdingKeys });
});
afterEach(async () => {
  for (const m of members.splice(0)) m.login.socket.destroy();
  await t.close();
});

// A login frame on a raw connection: the test must be able to close it
// before any answer, which `connectAndLogIn` does not allow.
async function startLogin(name: string, identity: Identity) {
  const { socket } = await connectPinned({
    host: '127.0.0.1',
    port: t.port,
    alpnProtocol: ALPN_PROTOCOL,
    trust: {
      knownServers: new KnownServers(path.join(t.dir, `${name}.raw.known_servers`)),
      expectedFingerprint: t.certificate.fingerprint,
    },
  });
  socket.on('error', () => {});
  socket.write(
    encodeClientFrame({
      type: 'login',
      user: name,
      password: PASSWORD,
      ...encodeKeyBundle(identity),
    }),
  );
  return socket;
}

test('a login whose connection closes while its keys are being published claims nothing: no ghost, the name stays free', async () => {
  // A client gone without a word: the server hears of it at the login
  // deadline (a FIN alone would be answered after the login, a reset is not
  // seen while the login holds the socket paused). A short deadline, then.
  await t.close();
  t = await startTestServer(undefined, {
    wrapStore: holdingKeys,
    server: { loginTimeoutMs: 1000 },
  });
  const alice = await join(t, 'alice');
  await alice.leave();
  await t.waitForLog((r) => r.event === 'disconnect' && r.user === 'alice');

  const hold = holdNextKeyLookUp();
  const socket = await startLogin('alice', alice.identity);
  await hold.reached; // password checked; the server now waits on the store
  socket.destroy();
  const conn = (await t.waitForLog((r) => r.event === 'disconnect' && r.user === undefined)).conn;
  hold.release();
  const outcome = await t.waitForLog(
    (r) => r.conn === conn && (r.event === 'login_ok' || r.event === 'login_abandoned'),
  );

  // The same user, again: the name is free, and the room holds only this one.
  const again = await join(t, 'alice', { register: false, identity: alice.identity });
  members.push(again);
  expect(again.login.count).toBe(1);
  expect(t.server.online).toEqual(['alice']);
  expect(outcome).toMatchObject({ event: 'login_abandoned', user: 'alice', reason: 'closed' });
});

// The first of logIn's two checks, right after the password: a login whose
// client is gone by then must not go on to publish its keys. Here alice
// logs in from a new device (new keys) and leaves while bcrypt is running.
// Had the server gone on, the account's keys would be replaced by those of
// a session that never started (a `keys_changed` for nothing, and a token
// of alice's key-change budget spent), and her own device would meet a key
// change at its next login. The second check, before the claim, stops the
// claim but not this. The test above holds a later step, so it does not see
// this check.
test('a login whose connection closes while its password is being checked publishes no keys and claims nothing', async () => {
  await t.close();
  let armed: (() => Promise<void>) | undefined;
  t = await startTestServer(undefined, { hashDone: () => armed?.() });
  const alice = await join(t, 'alice');
  await alice.leave();
  await t.waitForLog((r) => r.event === 'disconnect' && r.user === 'alice');
  // Compared as text: a mismatch then reads as two keys, not 200 bytes.
  const keysOnRecord = async () => {
    const keys = await t.store.findUserKeys('alice');
    return [keys?.signingKey.toString('base64'), keys?.agreementKey.toString('base64')];
  };
  const stored = await keysOnRecord();
  expect(stored[0]).toBe(alice.identity.signingKey.toString('base64'));

  // The next hashing job, once run, waits until the client is gone.
  let reached!: () => void;
  const running = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  armed = () => {
    armed = undefined;
    reached();
    return released;
  };
  // Fake only the clocks (sockets and workers need the real nextTick,
  // setImmediate and microtasks), so the deadline fires when the test says.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const socket = await startLogin('alice', generateIdentity('alice')); // a new device
    await running; // bcrypt has run: for the server, the password is still being checked
    socket.destroy();
    // Gone without a word: the server hears of it at the login deadline.
    jest.advanceTimersByTime(DEFAULT_LOGIN_TIMEOUT_MS);
    const { conn } = await t.waitForLog((r) => r.event === 'refused' && r.code === 'LOGIN_TIMEOUT');
    await t.waitForLog((r) => r.conn === conn && r.event === 'disconnect');
    release();
    const outcome = await t.waitForLog(
      (r) => r.conn === conn && (r.event === 'login_ok' || r.event === 'login_abandoned'),
    );
    expect(outcome).toMatchObject({ event: 'login_abandoned', user: 'alice', reason: 'closed' });
  } finally {
    jest.useRealTimers();
  }
  // The keys on record are still those of alice's own session, unchanged.
  expect(await keysOnRecord()).toEqual(stored);
  expect(t.logLines.filter((l) => l.includes('"keys_changed"'))).toEqual([]);
  expect(t.server.online).toEqual([]);
  // Her own device logs in at once: the name is free, her keys are the ones on record.
  const again = await join(t, 'alice', { register: false, identity: alice.identity });
  members.push(again);
  expect(t.server.online).toEqual(['alice']);
});

test('a `keys` look-up sent just before the client half-closes is answered before our FIN', async () => {
  // The FIN used to be answered at once: the look-up's answer came after it, to nobody.
  const alice = await join(t, 'alice');
  members.push(alice);
  const hold = holdNextKeyLookUp();
  // Someone offline: the answer comes from the store (here, that carol has no keys).
  alice.login.socket.end(encodeClientFrame({ type: 'keys', user: 'carol' }));
  await hold.reached; // the server waits on the store
  await t.waitForLog((r) => r.event === 'peer_ended'); // and the FIN has arrived
  hold.release();
  await once(alice.login.socket, 'close');
  expect(alice.frames.filter((f) => f.type === 'error')).toEqual([
    expect.objectContaining({ code: 'NO_KEYS' }),
  ]);
});

test('logins sent with their FIN are answered and charged: leaving early is no free look-up', async () => {
  // Before, the server ended such a connection at once: the job was dropped
  // unrun and every token came back. Now the FIN is answered after the
  // login, which is charged by its result (stage 7's test).
  await t.close();
  const budget = 3;
  t = await startTestServer(undefined, {
    server: { rateLimits: { perIp: { capacity: budget, refillMs: 600_000 } } },
  });
  const answers: string[] = [];
  for (let i = 0; i <= budget; i++) {
    const socket = await startLogin(`user${i}`, generateIdentity(`user${i}`));
    const lines = new LineReader(socket);
    socket.end();
    const frame = JSON.parse(await lines.next()) as { type: string; code?: string };
    answers.push(frame.code ?? frame.type);
    await once(socket, 'close'); // then our FIN
  }
  expect(answers).toEqual([...Array<string>(budget).fill('AUTH_FAILED'), 'RATE_LIMITED']);
});
