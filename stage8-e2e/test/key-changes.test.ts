// Key churn on a real stage 8 server: each change of a user's keys is a
// stored row, a `joined` frame with the new keys for every member and a loud
// warning on their screens, so changes are limited per user. Logging in with
// the same keys costs nothing; a registration's first keys are not a change.
import { generateIdentity } from '../../shared/src/identity-keys';
import { join, startTestServer, type TestServer } from './harness';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('a user may change keys only as often as the limit allows: RATE_LIMITED, nothing stored', async () => {
  t = await startTestServer(undefined, {
    server: { keyChanges: { capacity: 2, refillMs: 3_600_000 } },
  });
  const first = generateIdentity('alice');
  await (await join(t, 'alice', { identity: first })).leave(); // registration: no change
  await (await join(t, 'alice', { register: false, identity: first })).leave(); // same keys
  let newest = first;
  for (let change = 1; change <= 2; change++) {
    newest = generateIdentity('alice');
    await (await join(t, 'alice', { register: false, identity: newest })).leave();
  }
  const churn = join(t, 'alice', { register: false, identity: generateIdentity('alice') });
  await expect(churn).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  expect((await t.store.findUserKeys('alice'))?.signingKey).toEqual(newest.signingKey);
  // The limit is on changes, not on logins: the newest keys still get in.
  await (await join(t, 'alice', { register: false, identity: newest })).leave();
});
