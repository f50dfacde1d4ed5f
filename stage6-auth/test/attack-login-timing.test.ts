// Attack: after the operator raises the bcrypt cost, login timing tells which
// names are registered. An unknown name is compared with the dummy hash, made
// at the server's cost; a registered name with its stored hash, made at the
// cost of the day it registered. So a wrong password for an old account
// answered in a millisecond and one for a missing name took the full cost
// (19-40 ms against 285-414 ms at costs 8 and 12, in the review that found
// it). Now the comparison of an older, cheaper hash is padded with the rounds
// it lacks, in the same worker job, so both take the work of one comparison
// at the server's cost.
//
// This test compares two timings measured side by side, pair after pair, and
// asks only that they are of the same order: before the fix, at costs 4 and
// 10, the registered name answered about twenty times faster.
import bcrypt from 'bcryptjs';
import { rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const SERVER_COST = 10;
const OLD_COST = 4;
const PAIRS = 7;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ bcryptCost: SERVER_COST, hashWorkers: 1 });
  // Registered when the cost was lower: the hash keeps the cost it was made with.
  await t.store.createUser('alice', bcrypt.hashSync('alice-password', OLD_COST));
});
afterAll(() => t.close());

/** Milliseconds from sending a wrong-password login for `username` to its AUTH_FAILED. */
async function timeWrongLogin(address: string, username: string): Promise<number> {
  const conn = await rawConnect(t.port, address);
  const started = performance.now();
  const answer = await rawAuth(conn, t.key, 'login', username, 'not-the-password');
  const elapsed = performance.now() - started;
  expect(answer).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  conn.socket.destroy();
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test('a wrong password for an account hashed at a lower cost takes as long as one for a missing name', async () => {
  const registered: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    // One address per pair keeps every attempt inside the rate limits, and
    // alternating the two keeps a busy machine's slow moments fair to both.
    const address = `127.0.0.${20 + i}`;
    registered.push(await timeWrongLogin(address, 'alice'));
    missing.push(await timeWrongLogin(address, `ghost${i}`));
  }
  const ratio = median(registered) / median(missing);
  // Same work, so about 1; before the fix about 1/20. Generous both ways:
  // the point is "same order", not a number.
  expect(ratio).toBeGreaterThan(0.5);
  expect(ratio).toBeLessThan(2);
});

test('the padded comparison still lets the right password in', async () => {
  const conn = await rawConnect(t.port, '127.0.0.40');
  const answer = await rawAuth(conn, t.key, 'login', 'alice', 'alice-password');
  expect(answer).toMatchObject({ type: 'welcome' });
  await t.leave(conn.socket, 'alice');
});
