// Failed-login rate limiting through the server: RATE_LIMITED after the
// burst, checked before any hashing; other IPs (127.0.0.2, 127.0.0.3: Linux
// routes all of 127/8 to loopback) keep their own budget, so an attacker
// cannot lock the real user out; and the lockout expires (fake timers).
// Registrations have a budget per address too, and a taken name spends it.
import bcrypt from 'bcryptjs';
import { rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const ATTACKER = '127.0.0.2';
const OWNER = '127.0.0.3';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    rateLimits: {
      perIp: { capacity: 6, refillMs: 10_000 },
      perUserIp: { capacity: 3, refillMs: 60_000 },
      perUser: { capacity: 100, refillMs: 1_000 },
      registrationsPerIp: { capacity: 3, refillMs: 600_000 },
    },
  });
  const conn = await rawConnect(t.port, OWNER);
  await rawAuth(conn, t.key, 'register', 'alice', 'alice-password');
  await t.leave(conn.socket, 'alice');
  // Two more taken names, put straight into the store: no address paid for them.
  for (const name of ['bob', 'carol']) {
    await t.store.createUser(name, bcrypt.hashSync(`${name}-password`, 4));
  }
});
afterAll(() => t.close());
afterEach(() => jest.useRealTimers());

async function attempt(
  from: string,
  username: string,
  password: string,
  type: 'login' | 'register' = 'login',
) {
  const conn = await rawConnect(t.port, from);
  const answer = await rawAuth(conn, t.key, type, username, password);
  if (answer.type === 'welcome') await t.leave(conn.socket, username);
  else await conn.closed;
  return answer.type === 'error' ? answer.code : answer.type;
}

test('guessing one password: refused after the burst, even with the right password; the owner is not', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  for (let i = 0; i < 3; i++)
    expect(await attempt(ATTACKER, 'alice', `guess-${i}`)).toBe('AUTH_FAILED');
  const bcryptRuns = () => t.countLogs((r) => r.event === 'bcrypt');
  const before = bcryptRuns();
  expect(before).toBeGreaterThanOrEqual(3); // the three guesses were hashed
  expect(await attempt(ATTACKER, 'alice', 'guess-3')).toBe('RATE_LIMITED');
  expect(await attempt(ATTACKER, 'alice', 'alice-password')).toBe('RATE_LIMITED');
  // Refused before any bcrypt work: a limited guess costs us no CPU.
  expect(bcryptRuns()).toBe(before);

  // The real alice, from her own address, has her own budget.
  expect(await attempt(OWNER, 'alice', 'alice-password')).toBe('welcome');

  // The lockout is short: one refill interval later the attacker's pair may try again.
  jest.advanceTimersByTime(60_000);
  expect(await attempt(ATTACKER, 'alice', 'guess-4')).toBe('AUTH_FAILED');
});

test('one address guessing across many usernames hits the per-IP limit', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  jest.advanceTimersByTime(120_000); // start from full buckets
  const spray = '127.0.0.4';
  const answers: string[] = [];
  for (let i = 0; i < 7; i++) answers.push(await attempt(spray, `user${i}`, 'password1'));
  expect(answers.slice(0, 6)).toEqual(Array(6).fill('AUTH_FAILED'));
  expect(answers[6]).toBe('RATE_LIMITED');
  expect(await attempt(OWNER, 'alice', 'alice-password')).toBe('welcome');
  const limited = await t.waitForLog(
    (r) => r.code === 'RATE_LIMITED' && r.event === 'login_failed',
  );
  expect(limited).toMatchObject({ remote: expect.stringMatching(/^127\.0\.0\.[24]:/) });
});

// Attack: probing for usernames through `register`. NAME_TAKEN tells the
// prober the name exists, so a taken name must cost what a registration
// costs: a token of the address's registration budget (the refusal settles
// the permit as failed). If a taken name gave its tokens back instead (as an
// attempt that tested no password does), one address could test every name
// in a wordlist for free, and the budget would only ever count the names it
// actually created.
test('registering taken names spends the address registration budget: probing names is not free', async () => {
  // Fake clock: the 10-minute refill cannot hand a token back mid-test on a slow machine.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const prober = '127.0.0.5';
  // Three different names (not one name three times), so only the
  // registration budget (3 per address) is spent down to zero: the per-IP
  // budget (6) and each name's user+IP budget (3) keep tokens.
  for (const name of ['alice', 'bob', 'carol']) {
    expect(await attempt(prober, name, 'some-new-password', 'register')).toBe('NAME_TAKEN');
  }
  // The fourth registration, of a free name, finds the budget spent.
  const conn = await rawConnect(t.port, prober);
  const answer = await rawAuth(conn, t.key, 'register', 'dave', 'dave-password');
  expect(answer).toMatchObject({
    type: 'error',
    code: 'RATE_LIMITED',
    message: expect.stringContaining('too many registrations'),
  });
  await conn.closed;
  // It was the registration budget and not the address: a login from there is still heard.
  expect(await attempt(prober, 'alice', 'alice-password')).toBe('welcome');
  // Nothing was created by the probe.
  expect(await t.store.findUser('dave')).toBeUndefined();
});
