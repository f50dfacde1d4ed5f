// Sessions: one login per user at a time (the first undisturbed), many users
// logging in at once, the pre-login deadline (with fake timers), a room with
// more users than a welcome lists, and the goodbye every connection gets when
// the server shuts down.
import bcrypt from 'bcryptjs';
import { MAX_LISTED_USERS } from '../src/messages';
import { sealMessage } from '../src/sealed-messages';
import {
  logIn,
  rawAuth,
  rawConnect,
  sealCredentials,
  startClient,
  startTestServer,
  type RawConn,
  type TestServer,
} from './harness';

const USERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal'];

describe('sessions', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ hashWorkers: 2 });
    for (const name of USERS) {
      const s = await logIn(t, name, `${name}-password`, true);
      await t.leave(s.socket, name);
    }
  });
  afterAll(() => t.close());

  test('a second login of an online user gets ALREADY_LOGGED_IN; the first session carries on', async () => {
    const first = await logIn(t, 'ann', 'ann-password');
    const firstFrames: string[] = [];
    first.frames.listen((d) => firstFrames.push(d.ok ? d.frame.type : d.error.code));

    const second = await rawConnect(t.port);
    expect(await rawAuth(second, t.key, 'login', 'ann', 'ann-password')).toMatchObject({
      type: 'error',
      code: 'ALREADY_LOGGED_IN',
    });
    await second.closed;

    // The first session still works: ben hears ann.
    const ben = await rawConnect(t.port);
    await rawAuth(ben, t.key, 'login', 'ben', 'ben-password');
    first.socket.write(sealMessage(t.key, 'ann', 'still here'));
    expect(await ben.frame((f) => f.type === 'chat')).toMatchObject({ from: 'ann' });
    expect(firstFrames).toEqual(['joined']); // ben joined; nothing about the refused attempt
    expect(t.server.online.sort()).toEqual(['ann', 'ben']);

    // Once ann leaves, she can log in again.
    await t.leave(first.socket, 'ann');
    const again = await logIn(t, 'ann', 'ann-password');
    await t.leave(again.socket, 'ann');
    await t.leave(ben.socket, 'ben');
  });

  test('a wrong password for an online user is AUTH_FAILED, not a hint that they are online', async () => {
    const cat = await logIn(t, 'cat', 'cat-password');
    const guess = await rawConnect(t.port);
    expect(await rawAuth(guess, t.key, 'login', 'cat', 'wrong-guess')).toMatchObject({
      code: 'AUTH_FAILED',
    });
    await t.leave(cat.socket, 'cat');
  });

  test('different users log in concurrently; two racing logins of one user: exactly one wins', async () => {
    const names = ['dan', 'eve', 'fay', 'gus', 'hal'];
    const sessions = await Promise.all(names.map((n) => logIn(t, n, `${n}-password`)));
    expect(sessions.map((s) => s.username)).toEqual(names);
    expect(t.server.online.sort()).toEqual(names);
    await Promise.all(sessions.map((s) => t.leave(s.socket, s.username)));

    // From three addresses: from one, the rate limiter lets only one attempt
    // per user be checked at a time (the others get RATE_LIMITED at once).
    const racers = await Promise.all(
      ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((from) => rawConnect(t.port, from)),
    );
    const answers = await Promise.all(
      racers.map((r) => rawAuth(r, t.key, 'login', 'dan', 'dan-password')),
    );
    const types = answers.map((a) => (a.type === 'error' ? a.code : a.type)).sort();
    expect(types).toEqual(['ALREADY_LOGGED_IN', 'ALREADY_LOGGED_IN', 'welcome']);
    for (const r of racers) r.socket.end();
  });
});

describe('pre-login deadline (fake timers)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ loginTimeoutMs: 30_000 });
    const s = await logIn(t, 'ann', 'ann-password', true);
    await t.leave(s.socket, 'ann');
  });
  afterAll(() => t.close());
  afterEach(() => jest.useRealTimers());

  test('a connection that does not log in within the deadline gets LOGIN_TIMEOUT and is closed', async () => {
    // Fake only the clocks: sockets and worker threads still need the real
    // nextTick, setImmediate and microtasks.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const idle = await rawConnect(t.port); // hello received: its deadline timer is set
    const late = await rawConnect(t.port);
    jest.advanceTimersByTime(29_000);
    // In time: late logs in with a second to spare (time enough to check its
    // password), which cancels its deadline.
    expect(await rawAuth(late, t.key, 'login', 'ann', 'ann-password')).toMatchObject({
      type: 'welcome',
    });
    jest.advanceTimersByTime(999);
    expect(idle.lines.lines.filter((l) => l.includes('LOGIN_TIMEOUT'))).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(await idle.frame()).toMatchObject({ type: 'error', code: 'LOGIN_TIMEOUT' });
    await idle.closed;
    jest.advanceTimersByTime(60_000);
    // The logged-in connection is not affected by any deadline.
    late.sendJson({ type: 'who' });
    expect(await late.frame((f) => f.type === 'who')).toEqual({
      type: 'who',
      count: 1,
      online: ['ann'],
    });
    jest.useRealTimers();
    await t.leave(late.socket, 'ann');
  });
});

test('with more users online than a frame lists: welcome and who carry the count and the first 50', async () => {
  const t = await startTestServer();
  try {
    // One after another, so the login order (and so the listed names) is known.
    // The accounts go straight into the store: 55 registrations from one
    // address would meet the per-address registration limit.
    const names = Array.from({ length: MAX_LISTED_USERS + 5 }, (_, i) => `u${i}`);
    for (const name of names)
      await t.store.createUser(name, bcrypt.hashSync(`${name}-password`, 4));
    const conns: RawConn[] = [];
    for (const name of names) {
      const conn = await rawConnect(t.port);
      expect(await rawAuth(conn, t.key, 'login', name, `${name}-password`)).toMatchObject({
        type: 'welcome',
        count: conns.length + 1,
      });
      conns.push(conn);
    }
    const first50 = names.slice(0, MAX_LISTED_USERS);
    conns[0]!.sendJson({ type: 'who' });
    expect(await conns[0]!.frame((f) => f.type === 'who')).toEqual({
      type: 'who',
      count: names.length,
      online: first50,
    });
    // The real client says how many it was not shown.
    const zoe = startClient(t, 'zoe', 'zoe-password', true);
    const line = await zoe.stderr.waitFor('logged in as zoe');
    expect(line).toBe(
      `* logged in as zoe; ${names.length + 1} online: ${first50.join(', ')}, … and 6 more`,
    );
    await zoe.quit();
  } finally {
    await t.close();
  }
});

test('shutdown: every connection, logged in or not, gets {"type":"bye"} and is closed', async () => {
  const t = await startTestServer();
  const ann = await logIn(t, 'ann', 'ann-password', true);
  const frames: string[] = [];
  ann.frames.listen((d) => frames.push(d.ok ? JSON.stringify(d.frame) : d.error.code));
  const stranger = await rawConnect(t.port);
  const annClosed = new Promise((resolve) => ann.socket.once('close', resolve));
  await t.close();
  expect(await stranger.frame()).toEqual({ type: 'bye', reason: 'server shutting down' });
  await stranger.closed;
  await annClosed;
  expect(frames).toEqual(['{"type":"bye","reason":"server shutting down"}']);
});

test('when the server ends a session, the name is free at once (not when the socket finally closes)', async () => {
  const t = await startTestServer();
  try {
    const ann = await rawConnect(t.port);
    expect(await rawAuth(ann, t.key, 'register', 'ann', 'ann-password')).toMatchObject({
      type: 'welcome',
    });
    const ben = await logIn(t, 'ben', 'ben-password', true);
    const lefts: string[] = [];
    let answered: () => void = () => {};
    const whoAnswered = new Promise<void>((resolve) => (answered = resolve));
    ben.frames.listen((d) => {
      if (d.ok && d.frame.type === 'left') lefts.push(d.frame.who);
      if (d.ok && d.frame.type === 'who') answered();
    });
    // An oversized frame ends ann's session. Her client is slow to close its
    // side (this raw socket never does): until the server's linger runs out,
    // the socket is open, but ann is no longer online.
    ann.socket.write('x'.repeat(20_000) + '\n');
    expect(await ann.frame((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(t.server.online).toEqual(['ben']);
    expect(ann.socket.destroyed).toBe(false);
    // She can log in again right away, from a new connection.
    const again = await rawConnect(t.port);
    expect(await rawAuth(again, t.key, 'login', 'ann', 'ann-password')).toMatchObject({
      type: 'welcome',
    });
    await ann.closed;
    // One "left", however the old socket ended (ben's `who` answer comes after it).
    ben.socket.write('{"type":"who"}\n');
    await whoAnswered;
    expect(lefts).toEqual(['ann']);
    again.socket.end();
    await t.leave(ben.socket, 'ben');
  } finally {
    await t.close();
  }
});

test('a client that half-closes right after its login still gets the answer, then our FIN', async () => {
  // Scripts do this: printf '<login>\n' | nc. Before, the server ended the
  // connection on the FIN: the welcome was written after it and never
  // arrived (and a job still queued was dropped and charged as a guess).
  const t = await startTestServer();
  try {
    await t.store.createUser('carol', await bcrypt.hash('carol-password', 4));
    const conn = await rawConnect(t.port);
    const box = sealCredentials(t.key, 'login', {
      username: 'carol',
      password: 'carol-password',
      challenge: conn.challenge,
    });
    conn.socket.end(JSON.stringify({ type: 'login', box }) + '\n');
    expect(await conn.frame((f) => f.type === 'welcome' || f.type === 'error')).toMatchObject({
      type: 'welcome',
      user: 'carol',
    });
    await conn.closed;
  } finally {
    await t.close();
  }
});
