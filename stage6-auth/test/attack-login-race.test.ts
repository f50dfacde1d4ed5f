// Attack (issue 10, item 1): racing the failed-login limiter. Thirty wrong
// passwords for one user, sent at the same moment from one address, must not
// all reach bcrypt because the limit was checked before the await and only
// recorded after it. The limiter hands out permits instead: taking the token
// is the check, and only one attempt per (user, address) is in flight at a
// time. We count the hashing jobs the server starts (its `bcrypt` log
// events), never the time anything takes.
import { rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const ATTACKER = '127.0.0.2';
const GUESSES = 30;
/** The per (user, address) burst, as shipped (rate-limit.ts, DEFAULT_LOGIN_LIMITS). */
const BURST = 5;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(); // the shipped rate limits
  const conn = await rawConnect(t.port);
  await rawAuth(conn, t.key, 'register', 'alice', 'alice-password');
  await t.leave(conn.socket, 'alice');
});
afterAll(() => t.close());
afterEach(() => jest.useRealTimers());

const hashingJobs = () => t.countLogs((r) => r.event === 'bcrypt');

/** Sends `GUESSES` wrong logins for alice at once; resolves with each answer's code. */
async function raceGuesses(round: number): Promise<string[]> {
  const conns = await Promise.all(
    Array.from({ length: GUESSES }, () => rawConnect(t.port, ATTACKER)),
  );
  const answers = await Promise.all(
    conns.map((conn, i) => rawAuth(conn, t.key, 'login', 'alice', `guess-${round}-${i}`)),
  );
  await Promise.all(conns.map((conn) => conn.closed));
  return answers.map((a) => (a.type === 'error' ? a.code : a.type));
}

test('30 simultaneous wrong passwords for one user from one address: at most the burst is hashed', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const before = hashingJobs();
  const codes = await raceGuesses(1);
  const hashed = hashingJobs() - before;
  expect(codes.every((c) => c === 'AUTH_FAILED' || c === 'RATE_LIMITED')).toBe(true);
  expect(codes.filter((c) => c === 'AUTH_FAILED').length).toBeLessThanOrEqual(BURST);
  expect(hashed).toBeLessThanOrEqual(BURST);

  // One refill interval later (12 s), one more token exists, not thirty. On a
  // busy machine the first round may not have spent the whole burst (a guess
  // can finish before the next arrives), so the invariant is over both
  // rounds: never more than the burst plus one refill.
  jest.advanceTimersByTime(12_000);
  const codes2 = await raceGuesses(2);
  const failed = [...codes, ...codes2].filter((c) => c === 'AUTH_FAILED').length;
  expect(failed).toBeLessThanOrEqual(BURST + 1);
  expect(hashingJobs() - before).toBeLessThanOrEqual(BURST + 1);

  // The owner, from her own address, is not locked out.
  const owner = await rawConnect(t.port);
  expect(await rawAuth(owner, t.key, 'login', 'alice', 'alice-password')).toMatchObject({
    type: 'welcome',
  });
  await t.leave(owner.socket, 'alice');
});

test('guesses across many usernames at once from one address: at most the per-address burst is hashed', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  jest.advanceTimersByTime(600_000); // every bucket full again
  const spray = '127.0.0.3';
  const before = hashingJobs();
  const conns = await Promise.all(Array.from({ length: 30 }, () => rawConnect(t.port, spray)));
  const answers = await Promise.all(
    conns.map((conn, i) => rawAuth(conn, t.key, 'login', `user${i}`, 'password1')),
  );
  await Promise.all(conns.map((conn) => conn.closed));
  const failed = answers.filter((a) => a.type === 'error' && a.code === 'AUTH_FAILED').length;
  // 20 failures per address (DEFAULT_LOGIN_LIMITS.perIp), however they are timed.
  expect(failed).toBeLessThanOrEqual(20);
  expect(hashingJobs() - before).toBeLessThanOrEqual(20);
});
