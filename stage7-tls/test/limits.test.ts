// Stage 6's limits still hold behind TLS: failed passwords and forged
// tickets spend the same login budget, taken names the registration budget,
// one session per user, the login deadline (until login, not after), the
// connection caps (counted before the handshake, with the pace of new
// connections per address; a member no longer counts as logging in), the
// handshake gate, the error and message budgets and the slow-reader cap.
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import bcrypt from 'bcryptjs';
import { LoginTickets, TicketKeys } from '../../shared/src/login-ticket';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import { DEFAULT_LOGIN_LIMITS } from '../../shared/src/rate-limit';
import { handshakeOnce } from '../../shared/test/tls-fixtures';
import { ALPN_PROTOCOL } from '../src/messages';
import {
  logIn,
  PASSWORD,
  rawTls,
  startTestServer,
  tempDir,
  type RawTls,
  type TestServer,
} from './harness';

let dir: string;
let t: TestServer | undefined;
const code = (c: string) => expect.objectContaining({ code: c });
/** A message budget no test reaches: for the tests whose means, not subject, is a flood. */
const NO_MESSAGE_BUDGET = { capacity: 1_000_000_000, refillMs: 1 };
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('wrong passwords, then a wrong ticket, exhaust the login budget: RATE_LIMITED, no hashing for the refused', async () => {
  t = await startTestServer({ rateLimits: { perUserIp: { capacity: 3, refillMs: 600_000 } } });
  await logIn(t, dir, 'alice', { register: true }).then((s) => s.socket.destroy());
  const jobs = t.hashJobs();
  for (let i = 0; i < 2; i++) {
    const raw = await rawTls(t.port);
    raw.send({ type: 'login', user: 'alice', password: 'not the password' });
    expect(await raw.next()).toEqual(code('AUTH_FAILED'));
  }
  const guess = await rawTls(t.port);
  guess.send({ type: 'resume', user: 'alice', ticket: 'v1.guess.YWxpY2U.9999999999.AAAA' });
  expect(await guess.next()).toEqual(code('TICKET_INVALID'));
  const refused = await rawTls(t.port);
  refused.send({ type: 'login', user: 'alice', password: PASSWORD });
  expect(await refused.next()).toEqual(code('RATE_LIMITED'));
  expect(t.hashJobs()).toBe(jobs + 2);
});

// Attack on a classroom, by the calendar: thirty people behind one address
// hold tickets that expire the same morning (or the operator replaced the
// ticket key to log everyone out). Each stale ticket was charged as a wrong
// guess, so the address's budget (20) ran out, and the last ten were
// refused RATE_LIMITED with the right password (a review's reproduction).
// A stale ticket tests no secret: it now costs nothing, and its log line
// is sampled. A forged one still costs what a wrong guess costs (above).
test('stale tickets, expired or made under a replaced key, cost no login budget', async () => {
  t = await startTestServer();
  const server = t;
  const DAY_MS = 24 * 60 * 60 * 1000;
  const yesterday = new LoginTickets({ keys: server.ticketKeys, now: () => Date.now() - DAY_MS });
  const replacedKey = new LoginTickets({ keys: TicketKeys.generate() });
  const users = Array.from(
    { length: DEFAULT_LOGIN_LIMITS.perIp.capacity + 5 },
    (_, i) => `pupil${i}`,
  );
  const answers: string[] = [];
  for (const tickets of [yesterday, replacedKey]) {
    for (const user of users) {
      const raw = await rawTls(server.port);
      raw.send({ type: 'resume', user, ticket: tickets.issue(user).ticket });
      const answer = await raw.next();
      answers.push(answer?.type === 'error' ? answer.code : String(answer?.type));
      raw.socket.destroy();
    }
  }
  expect(new Set(answers)).toEqual(new Set(['TICKET_INVALID']));
  // The first of each kind is logged, then a count: not one line per ticket.
  expect(server.countLogs((r) => r.event === 'ticket_refused')).toBeLessThan(answers.length);
  // And the address can still log in with a password.
  await logIn(server, dir, 'teacher', { register: true }).then((s) => s.socket.destroy());
});

test('logins sent with their FIN are answered and charged: leaving early is no free look-up', async () => {
  // Before, the server ended such a connection at once: the job was dropped
  // unrun, every token came back, and the next one could follow, for ever.
  // Now the FIN is answered after the login, which is charged by its result.
  // (A reset while the job waits is not even seen while the socket is
  // paused: that job runs and is charged too.)
  t = await startTestServer({ rateLimits: { perIp: { capacity: 3, refillMs: 600_000 } } });
  const answers: string[] = [];
  for (let i = 0; i < 4; i++) {
    const raw = await rawTls(t.port);
    raw.socket.end(
      JSON.stringify({ type: 'login', user: `user${i}`, password: 'a wrong one' }) + '\n',
    );
    const answer = await raw.next();
    answers.push(answer?.type === 'error' ? answer.code : String(answer?.type));
    expect(await raw.next()).toBeUndefined(); // then our FIN
  }
  expect(answers).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'RATE_LIMITED']);
});

// Attack: probing for usernames through `register`. NAME_TAKEN tells the
// prober the name exists, so a taken name must spend the address's
// registration budget, as a created account does (stage 6's rate-limit
// test). Were its tokens given back (as for an attempt that tested no
// password), one address could test a whole wordlist of names for free.
test('registering taken names spends the address registration budget: probing names is not free', async () => {
  t = await startTestServer({
    rateLimits: { registrationsPerIp: { capacity: 2, refillMs: 600_000 } },
  });
  // Taken names put straight into the store: no address paid for them.
  for (const name of ['alice', 'bob']) await t.store.createUser(name, bcrypt.hashSync(PASSWORD, 4));
  // Two different names, so only the registration budget (2) runs out: the
  // per-address and per-name login budgets keep tokens.
  for (const name of ['alice', 'bob']) {
    const probe = await rawTls(t.port);
    probe.send({ type: 'register', user: name, password: PASSWORD });
    expect(await probe.next()).toEqual(code('NAME_TAKEN'));
    probe.socket.destroy();
  }
  const real = await rawTls(t.port);
  real.send({ type: 'register', user: 'carol', password: PASSWORD });
  expect(await real.next()).toEqual(
    expect.objectContaining({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('too many registrations') as unknown,
    }),
  );
  expect(await t.store.findUser('carol')).toBeUndefined();
});

test('one session per user, whether the second login uses the password or the ticket', async () => {
  t = await startTestServer();
  const first = await logIn(t, dir, 'alice', { register: true });
  await expect(logIn(t, dir, 'alice', { tickets: undefined })).rejects.toThrow(
    code('ALREADY_LOGGED_IN'),
  );
  await expect(logIn(t, dir, 'alice')).rejects.toThrow(code('ALREADY_LOGGED_IN'));
  expect(t.server.online).toEqual(['alice']);
  first.socket.destroy();
});

test('a FIN before the handshake is answered at once: the place under the caps is not held', async () => {
  // Port scanners and health checks connect and close. When the server
  // listened with allowHalfOpen, that FIN went unanswered until the
  // handshake deadline, and 32 of them filled the address's places.
  t = await startTestServer({ handshakeTimeoutMs: 60_000 });
  for (const hello of [Buffer.alloc(0), Buffer.from([0x16, 0x03, 0x01])]) {
    const probe = net.connect({ host: '127.0.0.1', port: t.port });
    probe.on('error', () => {});
    await once(probe, 'connect');
    probe.end(hello); // nothing, or the start of a ClientHello, then FIN
    await once(probe, 'close');
  }
}, 10_000);

test('a client that half-closes right after its login still gets the answer, then our FIN', async () => {
  t = await startTestServer();
  await logIn(t, dir, 'carol', { register: true }).then((s) => s.socket.destroy());
  await t.waitForLog((r) => r.event === 'disconnect' && r.user === 'carol');
  const raw = await rawTls(t.port);
  raw.socket.end(JSON.stringify({ type: 'login', user: 'carol', password: PASSWORD }) + '\n');
  expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome', user: 'carol' }));
  expect(await raw.next()).toEqual(expect.objectContaining({ type: 'ticket' }));
  expect(await raw.next()).toBeUndefined(); // and then our FIN
});

test('a connection that completes the handshake but never logs in is closed with LOGIN_TIMEOUT', async () => {
  t = await startTestServer({ loginTimeoutMs: 300 });
  const raw = await rawTls(t.port);
  expect(await raw.next()).toEqual(code('LOGIN_TIMEOUT'));
  expect(await raw.next()).toBeUndefined();
});

test('a connection that logs in in time is not closed by the login deadline', async () => {
  // The deadline is for connections that never log in; a member keeps no
  // such timer (stage 6's sessions test). Were it left running, every member
  // would be closed with LOGIN_TIMEOUT 30 s after it connected.
  t = await startTestServer({ loginTimeoutMs: 30_000 });
  // Fake only the clocks: sockets and worker threads still need the real
  // nextTick, setImmediate and microtasks.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const raw = await rawTls(t.port); // its deadline is set now, on the fake clock
    jest.advanceTimersByTime(29_000);
    raw.send({ type: 'register', user: 'alice', password: PASSWORD });
    expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
    expect(await raw.next()).toEqual(expect.objectContaining({ type: 'ticket' }));
    jest.advanceTimersByTime(60_000); // well past the deadline
    raw.send({ type: 'who' });
    expect(await raw.next()).toEqual({ type: 'who', count: 1, online: ['alice'] });
    raw.socket.destroy();
  } finally {
    jest.useRealTimers();
  }
});

// A member no longer counts among its address's connections that have not
// logged in (32 by default): otherwise a class behind one NAT, once 32 of
// them are in, could not even connect, and every member would hold a place
// meant for someone still logging in.
test('a connection that logs in gives back its place among the pre-login connections of its address', async () => {
  t = await startTestServer({ maxPreLoginPerAddress: 1 });
  const members: RawTls[] = [];
  for (const user of ['alice', 'bob', 'carol']) {
    // The address's one place: taken by each in turn while it logs in.
    const raw = await rawTls(t.port);
    members.push(raw);
    raw.send({ type: 'register', user, password: PASSWORD });
    expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome', user }));
  }
  expect(t.server.online.sort()).toEqual(['alice', 'bob', 'carol']);
  for (const raw of members) raw.socket.destroy();
});

test('past the connection cap a TCP connection is dropped before its handshake costs anything', async () => {
  t = await startTestServer({ maxConnections: 1 });
  const held = await rawTls(t.port);
  const extra = net.connect({ host: '127.0.0.1', port: t.port });
  extra.on('error', () => {});
  await once(extra, 'close');
  await t.waitForLog((r) => r.event === 'refused' && r.code === 'TOO_MANY_CONNECTIONS');
  held.socket.destroy();
});

test('an address looping connect, handshake, close is dropped before its handshake once past its pace', async () => {
  // Each connection closes at once, so the caps on connections held never
  // fill; before the pace was counted, every handshake here was signed.
  t = await startTestServer({ newConnectionsPerAddress: { capacity: 5, refillMs: 3_600_000 } });
  const finished: boolean[] = [];
  for (let i = 0; i < 8; i++) finished.push(await handshakeOnce(t.port, ALPN_PROTOCOL));
  expect(finished).toEqual([true, true, true, true, true, false, false, false]);
  await t.waitForLog((r) => r.event === 'refused' && r.why === 'address too fast');
});

test('a burst of 20 connections through a server gate of 1 per turn all complete their handshake', async () => {
  t = await startTestServer({ handshakesPerTurn: 1, maxPreLoginPerAddress: 40 });
  const clients = await Promise.all(Array.from({ length: 20 }, () => rawTls(t!.port)));
  for (const c of clients) c.send({ type: 'who' });
  for (const c of clients) expect(await c.next()).toMatchObject({ code: 'NOT_LOGGED_IN' });
});

test('a handshake that stalls is closed at its deadline, and its place under the caps is freed', async () => {
  t = await startTestServer({ handshakeTimeoutMs: 200, maxPreLoginPerAddress: 1 });
  const stalled = net.connect({ host: '127.0.0.1', port: t.port });
  stalled.on('error', () => {});
  stalled.write(Buffer.from([0x16])); // a handshake record's first byte, and nothing more
  await once(stalled, 'close'); // closed by the server (the test would hang otherwise)
  await t.waitForLog((r) => r.event === 'handshake_refused' && r.code === 'TLS_HANDSHAKE');
  const raw = await rawTls(t.port); // the address's one place is free again
  raw.send({ type: 'register', user: 'alice', password: PASSWORD });
  expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
});

test('a logged-in client sending junk runs out of its error budget: TOO_MANY_ERRORS', async () => {
  t = await startTestServer({ errorBudget: { capacity: 2, refillMs: 600_000 } });
  const raw = await rawTls(t.port);
  raw.send({ type: 'register', user: 'alice', password: PASSWORD });
  await raw.next(); // welcome
  await raw.next(); // ticket
  for (let i = 0; i < 3; i++) raw.socket.write('not json\n');
  expect(await raw.next()).toEqual(code('BAD_FRAME'));
  expect(await raw.next()).toEqual(code('BAD_FRAME'));
  expect(await raw.next()).toEqual(code('TOO_MANY_ERRORS'));
});

test('a member flooding valid chat is slowed to its message budget: another member overtakes the flood', async () => {
  t = await startTestServer();
  const registered = async (user: string) => {
    const raw = await rawTls(t!.port);
    raw.send({ type: 'register', user, password: PASSWORD });
    expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
    expect(await raw.next()).toEqual(expect.objectContaining({ type: 'ticket' }));
    return raw;
  };
  const mallory = await registered('mallory');
  const alice = await registered('alice');
  const bob = await registered('bob');
  const nextChat = async () => {
    let f = await bob.next();
    while (f !== undefined && f.type !== 'chat') f = await bob.next(); // notices
    return f;
  };
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  mallory.socket.write(Array.from({ length: 300 }, (_, i) => chat(`flood ${i}`)).join(''));
  expect(await nextChat()).toEqual({ type: 'chat', from: 'mallory', text: 'flood 0' });
  alice.socket.write(chat('hello'));
  let fromMallory = 1;
  let f = await nextChat();
  for (; f?.type === 'chat' && f.from === 'mallory'; f = await nextChat()) fromMallory++;
  expect(f).toEqual({ type: 'chat', from: 'alice', text: 'hello' });
  // The burst, not the whole read: before the budget, 64 frames a turn went out at once.
  expect(fromMallory).toBeGreaterThanOrEqual(DEFAULT_MESSAGE_BUDGET.capacity);
  expect(fromMallory).toBeLessThan(40);
  expect(t.server.online.sort()).toEqual(['alice', 'bob', 'mallory']);
  for (const raw of [mallory, alice, bob]) raw.socket.destroy();
});

test('a member that sends past its burst and then ends loses nothing: the rest goes out at the pace, then `left`', async () => {
  const refillMs = 50;
  t = await startTestServer({ messageBudget: { capacity: 20, refillMs } });
  const mallory = await logIn(t, dir, 'mallory', { register: true });
  const bob = await rawTls(t.port);
  bob.send({ type: 'register', user: 'bob', password: PASSWORD });
  expect(await bob.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  const seen: string[] = [];
  const at: number[] = [];
  const reading = (async () => {
    for (let f = await bob.next(); f?.type !== 'left'; f = await bob.next()) {
      if (f?.type !== 'chat') continue;
      seen.push(f.text);
      at.push(performance.now());
    }
  })();
  mallory.socket.end(Array.from({ length: 30 }, (_, i) => chat(`flood ${i}`)).join(''));
  await once(mallory.socket, 'close');
  const closedAt = performance.now();
  await reading;
  // Before: the 20 of the burst, then `left`; what the budget held was dropped.
  expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `flood ${i}`));
  expect(at[29]! - at[19]!).toBeGreaterThanOrEqual(6 * refillMs); // paced, not at once
  // The server answered the client's FIN once they were out, not before.
  expect(closedAt - at[19]!).toBeGreaterThanOrEqual(6 * refillMs);
  expect(t.server.online).toEqual(['bob']);
  bob.socket.destroy();
});

test('a member that stops reading is cut loose at the queue cap; the others keep chatting', async () => {
  t = await startTestServer({ maxQueueBytes: 64 * 1024, messageBudget: NO_MESSAGE_BUDGET });
  const slow = await logIn(t, dir, 'slow', { register: true });
  slow.socket.pause(); // reads nothing from now on
  const fast = await logIn(t, dir, 'fast', { register: true });
  const talker = await logIn(t, dir, 'talker', { register: true });
  const line = JSON.stringify({ type: 'chat', text: 'x'.repeat(4000) }) + '\n';
  let cutLoose = false;
  const cut = t.waitForLog((r) => r.event === 'slow_consumer');
  void cut.then(() => (cutLoose = true));
  // Until the server gives up on it: the kernel's buffers fill first, then the 64 KiB queue.
  while (!cutLoose) {
    if (!talker.socket.write(line)) await once(talker.socket, 'drain');
    else await new Promise((resolve) => setImmediate(resolve));
  }
  expect((await cut).user).toBe('slow');
  expect(t.server.online).toEqual(['fast', 'talker']);
  for (const s of [slow, fast, talker]) s.socket.destroy();
});

test('idle: a silent member is pinged; the client answers by itself and stays; a raw one that never answers is closed', async () => {
  t = await startTestServer({ idleTimeoutMs: 2000 });
  const answering = await logIn(t, dir, 'alice', { register: true });
  const raw = await rawTls(t.port);
  raw.send({ type: 'register', user: 'bob', password: PASSWORD });
  expect(await raw.next()).toEqual(expect.objectContaining({ type: 'welcome' }));
  expect(await raw.next()).toEqual(expect.objectContaining({ type: 'ticket' }));
  expect(await raw.next()).toEqual({ type: 'ping' });
  expect(await raw.next()).toEqual(code('IDLE_TIMEOUT'));
  // Alice's client answered its pings with pong: after bob's timeout she is still online.
  expect(t.server.online).toEqual(['alice']);
  answering.socket.destroy();
});

test('connections reset before they are accepted leave no place taken under the caps', async () => {
  t = await startTestServer({ maxConnections: 16 });
  // Connect and reset at once, in bursts: some are reset before Node accepts
  // them, and reach the server with no peer address. Before, two of those
  // were one entry in the door's list, so one was never counted out: here
  // 15 of the 16 places leaked for good (a review's run kept 31 of 100).
  for (let burst = 0; burst < 5; burst++) {
    const sockets = Array.from({ length: 20 }, () => {
      const socket = net.connect({ host: '127.0.0.1', port: t!.port });
      socket.on('error', () => {});
      socket.once('connect', () => socket.resetAndDestroy());
      return socket;
    });
    await Promise.all(sockets.map((s) => (s.closed ? undefined : once(s, 'close'))));
  }
  // Two members must fit. The server may still be counting the last resets
  // out: a bounded number of tries, each waiting for its own answer.
  const member = async (user: string) => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const client = await rawTls(t!.port).catch(() => undefined);
      if (client === undefined) continue;
      client.send({ type: 'register', user, password: PASSWORD });
      if ((await client.next())?.type === 'welcome') return client;
      client.socket.destroy();
    }
    throw new Error(`${user} refused every time: places under the caps leaked`);
  };
  const alice = await member('alice');
  const bob = await member('bob');
  alice.socket.destroy();
  bob.socket.destroy();
});
