// The database goes away while members chat: a `keys` look-up (what /verify
// sends for someone not in the room) is answered SERVICE_UNAVAILABLE in
// words a member can act on, with no driver detail, which goes to the log.
// An outage is not the member's fault, so its answers are not charged to
// the member's error budget: before, the eleventh look-up of an outage
// ended a well-behaved member's connection with TOO_MANY_ERRORS.
import { databaseUnavailable } from '../../shared/src/mysql-errors';
import { uniqueName } from '../../shared/test/user-store-contract';
import { DRIVER_DETAIL } from '../../testkit/outage';
import type { UserKeyStore } from '../../shared/src/user-store';
import type { ShownFrame } from '../src/client-login';
import { join, startTestServer, type TestServer } from './harness';

jest.setTimeout(30_000);

let t: TestServer;
let available = true;
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
  code: 'ECONNREFUSED',
});
// The store as the MySQL one behaves when its server refuses the connection.
const breakable = (store: UserKeyStore): UserKeyStore => ({
  description: `breakable ${store.description}`,
  createUser: (username, hash) => store.createUser(username, hash),
  findUser: (username) => store.findUser(username),
  addUserKeys: (username, keys) => store.addUserKeys(username, keys),
  findUserKeys: async (username) => {
    if (!available) throw databaseUnavailable(refused);
    return store.findUserKeys(username);
  },
  close: () => store.close(),
});

beforeAll(async () => {
  t = await startTestServer(undefined, { wrapStore: breakable });
});
afterAll(() => t.close());

test('keys look-ups during an outage: a clear answer, no driver detail, no lost member', async () => {
  const alice = await join(t, uniqueName('alice'));
  const bob = uniqueName('bob'); // not in the room: /verify would ask the database
  const lookUp = async (): Promise<ShownFrame> => {
    const seen = alice.frames.length;
    alice.login.socket.write(JSON.stringify({ type: 'keys', user: bob }) + '\n');
    return alice.waitForFrame(
      (f) => alice.frames.indexOf(f) >= seen && (f.type === 'error' || f.type === 'keys'),
    );
  };

  available = false;
  // Twice the default error budget (10), one at a time as the client asks.
  for (let i = 0; i < 20; i++) {
    const answer = await lookUp();
    expect(answer).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    const message = answer.type === 'error' ? answer.message : '';
    expect(message).toMatch(/try again later/);
    expect(message).not.toMatch(DRIVER_DETAIL);
  }
  expect(alice.login.socket.destroyed).toBe(false);
  // The operator learns why, once (the line is sampled), from the log.
  expect(t.logLines.filter((line) => line.includes('keys_lookup_failed')).length).toBeGreaterThan(
    0,
  );
  expect(
    t.logLines.some((line) => line.includes('keys_lookup_failed') && /ECONNREFUSED/.test(line)),
  ).toBe(true);

  available = true;
  await join(t, bob);
  expect(await lookUp()).toMatchObject({ type: 'keys', user: bob });
  await alice.leave();
});
