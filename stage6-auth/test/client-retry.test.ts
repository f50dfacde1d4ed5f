// A busy server's SERVICE_UNAVAILABLE carries `retryAfterMs`, and the client
// waits and tries again by itself, saying so on screen. Made deterministic:
// one hashing job per address is allowed, and the first login's database
// look-up is held by the test, so the real client (same address) is told
// to come back; the look-up is released once the client said it will retry.
import bcrypt from 'bcryptjs';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { connectAndLogIn } from '../src/client-login';
import { rawAuth, rawConnect, startClient, startTestServer, type TestServer } from './harness';

let inner: UserStore;
let t: TestServer;
let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();
beforeAll(async () => {
  inner = await openUserStore({ sqlitePath: ':memory:' });
  for (const name of ['ann', 'bob']) {
    await inner.createUser(name, bcrypt.hashSync(`${name}-password`, 4));
  }
  const store: UserStore = {
    description: 'gated',
    createUser: (u, h) => inner.createUser(u, h),
    findUser: async (u) => {
      if (u === 'ann') await held;
      return inner.findUser(u);
    },
    close: () => inner.close(),
  };
  t = await startTestServer({ store, hashJobsPerAddress: 1 });
});
afterAll(async () => {
  release();
  await t.close();
  await inner.close();
});

/** Ann starts a login whose look-up the test holds: her address's one hashing place is taken. */
async function annTakesThePlace() {
  held = new Promise<void>((resolve) => (release = resolve));
  const isAnnsLogin = (r: Record<string, unknown>) => r.event === 'auth_started';
  const before = t.countLogs(isAnnsLogin);
  const ann = await rawConnect(t.port);
  const answer = rawAuth(ann, t.key, 'login', 'ann', 'ann-password');
  await t.waitForLogCount(isAnnsLogin, before + 1); // her place is reserved
  return { ann, answer };
}

test('told the server is busy, the client says so, waits, and gets in', async () => {
  const { ann, answer: annAnswer } = await annTakesThePlace();
  const bob = startClient(t, 'bob', 'bob-password');
  expect(await bob.stderr.waitFor(/server busy/)).toMatch(
    /^\* server busy \(SERVICE_UNAVAILABLE\): trying again in [\d.]+ s \(2 of 9\)$/,
  );
  release();
  expect(await annAnswer).toMatchObject({ type: 'welcome' });
  expect(await bob.stderr.waitFor('logged in as bob')).toMatch(/^\* logged in as bob;/);
  expect(await bob.quit()).toBe(0);
  await t.leave(ann.socket, 'ann');
});

test('a login that is refused for good (wrong password) is not tried again', async () => {
  const error = await connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    key: t.key,
    username: 'bob',
    password: 'wrong-password',
    onRetry: () => {
      throw new Error('must not retry');
    },
  }).catch((err: unknown) => err);
  expect(error).toMatchObject({ code: 'AUTH_FAILED' });
});

test('retries: 0 gives the busy answer back at once, with its retry hint', async () => {
  const { ann, answer: annAnswer } = await annTakesThePlace();
  const error = await connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    key: t.key,
    username: 'bob',
    password: 'bob-password',
    retries: 0,
  }).catch((err: unknown) => err);
  expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterMs: expect.any(Number) });
  release();
  await annAnswer;
  await t.leave(ann.socket, 'ann');
});
