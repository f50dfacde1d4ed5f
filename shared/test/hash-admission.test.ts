// Admission to the hashing queue, with a fixed run time so the arithmetic
// is the test's (the real server measures it).
import { HashAdmission, MAX_BOOKING_MS } from '../src/hash-admission';
import { retryAfterOf } from '../src/retry-after';

const RUN_MS = 250;
const admission = (workers = 1, maxQueue = 256, maxPerClient = 8) =>
  new HashAdmission({ maxQueue, maxPerClient }, workers, () => RUN_MS);
const login = (client: string, budgetMs = 30_000) => ({ kind: 'login' as const, client, budgetMs });

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

test('a login is admitted when it can be done before its deadline, else refused with a retry time', () => {
  const a = admission();
  // 50 logins from 50 addresses, one worker, 250 ms each: the 50th is done after 12.5 s.
  for (let i = 0; i < 50; i++) a.admit(login(`10.0.0.${i}`));
  expect(a.expectedMs('login', '10.0.1.1')).toBe(51 * RUN_MS);
  const err = refusal(() => a.admit(login('10.0.1.1', 10_000)));
  expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  // It would be done 2.75 s after its deadline: come back about then.
  expect(retryAfterOf(err)).toBe(51 * RUN_MS - 10_000 + RUN_MS);
  expect(a.admit(login('10.0.1.1', 13_000))).toBeDefined();
});

test('a retry time is exact whatever the clock reads', () => {
  // A clock reading where (now + 3000) - now is 3000.0000000000005 in
  // floating point; computed that way, the answer said 3001 ms.
  const a = new HashAdmission(
    { maxQueue: 256, maxPerClient: 8 },
    1,
    () => RUN_MS,
    () => 2025.2426441191851,
  );
  for (let i = 0; i < 50; i++) a.admit(login(`10.0.0.${i}`));
  expect(retryAfterOf(refusal(() => a.admit(login('10.0.1.1', 10_000))))).toBe(3000);
});

test('more workers: the wait is shared between them', () => {
  const a = admission(4);
  for (let i = 0; i < 7; i++) a.admit(login(`10.0.0.${i}`));
  expect(a.expectedMs('login', 'x')).toBe(2 * RUN_MS); // 8 jobs on 4 workers
});

test('one address may have only so many jobs at once; released places come back', () => {
  const a = admission(1, 256, 3);
  const tickets = [a.admit(login('6.6.6.6')), a.admit(login('6.6.6.6')), a.admit(login('6.6.6.6'))];
  const err = refusal(() => a.admit(login('6.6.6.6')));
  expect(err).toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
    message: expect.stringMatching(/your address/),
  });
  expect(retryAfterOf(err)).toBeGreaterThanOrEqual(RUN_MS);
  expect(a.admit(login('10.0.0.1'))).toBeDefined(); // others are not affected
  tickets[0]!.release();
  tickets[0]!.release(); // twice is once
  expect(a.admit(login('6.6.6.6'))).toBeDefined();
  expect(a.outstanding).toBe(4);
});

test('round robin: a newcomer waits one turn of each busy address, not all of their jobs', () => {
  const a = admission(1, 256, 100);
  for (let i = 0; i < 30; i++) a.admit(login('flooder'));
  // One flooder job ahead (its turn), then the newcomer's.
  expect(a.expectedMs('login', 'newcomer')).toBe(2 * RUN_MS);
});

test('registrations wait behind every login and may take only half of the queue', () => {
  const a = admission(1, 8, 100);
  const reg = (client: string) => ({ kind: 'register' as const, client, budgetMs: 30_000 });
  for (let i = 0; i < 5; i++) a.admit(reg(`r${i}`)); // half of 8, plus the one running
  expect(refusal(() => a.admit(reg('r9')))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  // Logins still get in, and are not queued behind the registrations.
  expect(a.expectedMs('login', 'alice')).toBe(2 * RUN_MS); // at most one registration running
  expect(a.admit(login('alice'))).toBeDefined();
  expect(a.expectedMs('register', 'r9')).toBe(7 * RUN_MS); // every login and registration ahead
});

test('refused together, told to come back one after another: each refusal books the next free moment', () => {
  let now = 0;
  const a = new HashAdmission(
    { maxQueue: 256, maxPerClient: 2 },
    1,
    () => RUN_MS,
    () => now,
  );
  a.admit(login('nat'));
  a.admit(login('nat'));
  const hints = [1, 2, 3, 4].map(() => retryAfterOf(refusal(() => a.admit(login('nat')))));
  // One job's turn for the first, then one more run time for each after it.
  expect(hints).toEqual([RUN_MS, 2 * RUN_MS, 3 * RUN_MS, 4 * RUN_MS]);
  // Bookings that are over do not delay anyone.
  now += 10 * RUN_MS;
  expect(retryAfterOf(refusal(() => a.admit(login('nat'))))).toBe(RUN_MS);
});

test('a booking is never further ahead than MAX_BOOKING_MS', () => {
  const now = 0;
  const a = new HashAdmission(
    { maxQueue: 256, maxPerClient: 1 },
    1,
    () => RUN_MS,
    () => now,
  );
  a.admit(login('nat'));
  const hints = Array.from({ length: 200 }, () =>
    retryAfterOf(refusal(() => a.admit(login('nat')))),
  );
  expect(Math.max(...(hints as number[]))).toBe(MAX_BOOKING_MS);
});
