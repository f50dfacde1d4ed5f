// Attack: logins sent and abandoned. The server looks the name up, queues
// the password for a hashing worker, and the client resets its connection
// while the job waits: the job is dropped unrun. (A FIN is answered only
// after the login: that job runs, and is charged by its result.) No password was tested, so
// every rate-limit token came back, and each drop wrote a `login_abandoned`
// line that the sampler did not thin out: one address could make the
// server look names up and write log lines for ever, for free (704
// attempts and 699 lines in 2 s in the review that found it). Now a drop
// because the client left costs what a wrong guess costs, and the lines are
// sampled; a drop the server caused (its deadline, its shutdown) still
// costs nothing.
import { PasswordHasher } from '../../shared/src/passwords';
import { DEFAULT_LOGIN_LIMITS } from '../../shared/src/rate-limit';
import { rawConnect, sealCredentials, startTestServer, type TestServer } from './harness';

const ATTEMPTS_PER_ADDRESS = DEFAULT_LOGIN_LIMITS.perIp.capacity + 5;

let hasher: PasswordHasher;
let t: TestServer;
beforeAll(async () => {
  // One worker, kept busy by slow hashes of our own: every login the test
  // sends waits in the queue, where its client abandons it.
  hasher = await PasswordHasher.start({ cost: 15, workers: 1 });
  t = await startTestServer({ hasher });
});
afterAll(async () => {
  await t.close();
  await hasher.close();
});

/** Sends a login for `username` from `address`; resets the connection once its job is queued. */
async function abandonOrRefused(address: string, username: string): Promise<string> {
  for (;;) {
    const conn = await rawConnect(t.port, address);
    const queued = t.nextLog((r) => r.event === 'bcrypt').then(() => 'abandoned');
    const refused = conn
      .frame((f) => f.type === 'error')
      .then((f) => (f.type === 'error' ? f : undefined));
    const box = sealCredentials(t.key, 'login', {
      username,
      password: 'not the password',
      challenge: conn.challenge,
    });
    conn.sendJson({ type: 'login', box });
    const first = await Promise.race([queued, refused]);
    conn.socket.resetAndDestroy(); // a reset: a FIN would still get its answer
    if (typeof first === 'string') return first;
    // Busy only because earlier attempts are still being settled: try again.
    if (first?.code !== 'SERVICE_UNAVAILABLE') return first?.code ?? '?';
    await new Promise((resolve) => setTimeout(resolve, first.retryAfterMs ?? 100));
  }
}

test('a login abandoned in the queue costs its address a token, and its log line is sampled', async () => {
  // About two seconds of work; afterAll's close() ends it.
  hasher.hash('keeps the only worker busy').catch(() => {});
  const outcomes: Record<string, string[]> = {};
  for (const address of ['127.0.0.1', '127.0.0.2']) {
    const seen: string[] = (outcomes[address] = []);
    for (let i = 0; i < ATTEMPTS_PER_ADDRESS && seen.at(-1) !== 'RATE_LIMITED'; i++) {
      seen.push(await abandonOrRefused(address, `user${i}`));
    }
  }
  // Before: 25 abandoned from each address, never refused, and 50 lines.
  const expected = [
    ...Array<string>(DEFAULT_LOGIN_LIMITS.perIp.capacity).fill('abandoned'),
    'RATE_LIMITED',
  ];
  expect(outcomes).toEqual({ '127.0.0.1': expected, '127.0.0.2': expected });
  const lines = t.countLogs((r) => r.event === 'login_abandoned');
  expect(lines).toBeLessThan(2 * DEFAULT_LOGIN_LIMITS.perIp.capacity);
}, 60_000);
