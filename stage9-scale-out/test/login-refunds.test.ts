// A success costs nothing, on a stage 9 node over Redis as on stage 7: a
// real node (TLS on port 0) and real clients, all from 127.0.0.1 as everyone
// behind one NAT would be. The per-address budget is 3 failed logins (what
// `--failed-logins-per-ip 3` sets), with a refill too slow to matter here.
//
// The same cases run twice: on a node alone, whose login permits come from
// stage 6's in-process limiter (stage 7's, unchanged: the reference), and on
// a node whose buckets live in Redis under this suite's own key prefix. The
// two must answer alike.
//
// What stage 7's limiter does, and so what these tests ask of stage 9:
// - a correct login takes a token and gives it back (more logins than the
//   budget all get in: a node restart does not lock out a whole NAT);
// - a wrong password keeps its token (the limit still bites after 3);
// - a success gives back only its own token, never the ones failures spent,
//   and forgives the typos made for its user from its address;
// - an attempt in which no password was tested (here a password too long for
//   bcrypt, refused after the permit was taken, or a stale ticket) gives its
//   token back.
import bcrypt from 'bcryptjs';
import { Redis } from 'ioredis';
import { LoginTickets, TicketKeys } from '../../shared/src/login-ticket';
import type { LoginRateLimitOptions } from '../../shared/src/rate-limit';
import { clusterKeys } from '../src/cluster-keys';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import { connectTo, PASSWORD, startCluster, type TestCluster } from './server-harness';

/** `--failed-logins-per-ip`: failures in a burst per address. */
const BUDGET = 3;

/** Where the node's login permits come from. */
type Buckets = { redisUrl: string } | 'alone';

describe('stage 9 login budget alone (stage 6 limiter): failures count, successes do not', () => {
  loginBudgetCases('alone');
});

describeWithRedis('stage 9 login budget over Redis: failures count, successes do not', (url) => {
  loginBudgetCases({ redisUrl: url });
});

function loginBudgetCases(buckets: Buckets): void {
  const prefixes: string[] = [];
  let cluster: TestCluster | undefined;
  let port: number;
  let hash: string;

  beforeAll(() => {
    hash = bcrypt.hashSync(PASSWORD, 4); // the harness's hasher uses cost 4 too
  });

  /** (Re)starts the node, with its buckets where `buckets` says. */
  async function start(rateLimits: LoginRateLimitOptions): Promise<void> {
    await cluster?.close();
    if (buckets === 'alone') {
      cluster = await startCluster(1, { rateLimits });
    } else {
      const keyPrefix = testPrefix();
      prefixes.push(keyPrefix);
      cluster = await startCluster(1, { redisUrl: buckets.redisUrl, keyPrefix, rateLimits });
    }
    port = cluster.nodes[0]!.port;
  }

  beforeEach(async () => {
    await start({ perIp: { capacity: BUDGET, refillMs: 600_000 } });
  });

  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    if (buckets === 'alone') return;
    for (const prefix of prefixes.splice(0)) await deleteKeys(buckets.redisUrl, prefix);
  });

  /** Users created straight in the store: no registration, so no registration buckets. */
  async function createUsers(names: string[]): Promise<void> {
    for (const name of names) await cluster!.store.createUser(name, hash);
  }

  /**
   * One login on a fresh connection, answered before the next starts.
   *
   * @returns `'welcome'`, or the error frame's code
   */
  async function logIn(user: string, password: string): Promise<string> {
    const client = await connectTo(port);
    client.send({ type: 'login', user, password });
    const answer = await client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
    client.socket.end();
    return answer.type === 'error' ? answer.code : answer.type;
  }

  test(`${3 * BUDGET} correct logins of different users from one address all get in; then 3 failures, and the limit bites`, async () => {
    const users = Array.from({ length: 3 * BUDGET }, (_, i) => `nat${i}`);
    await createUsers([...users, 'late']);
    const outcomes: string[] = [];
    for (const user of users) outcomes.push(await logIn(user, PASSWORD));
    expect(outcomes).toEqual(users.map(() => 'welcome'));

    // The budget is whole, and it still counts failures.
    const guesses: string[] = [];
    for (let i = 0; i < BUDGET; i++) guesses.push(await logIn(`nat${i}`, `wrong guess ${i}`));
    expect(guesses).toEqual(Array(BUDGET).fill('AUTH_FAILED'));
    // Spent: even a right password from this address waits for a refill.
    expect(await logIn('late', PASSWORD)).toBe('RATE_LIMITED');
  });

  test('a success gives back only its own token: logging into your own account between guesses resets nothing', async () => {
    await createUsers(['victim', 'mallory']);
    expect(await logIn('victim', 'guess 1')).toBe('AUTH_FAILED');
    expect(await logIn('victim', 'guess 2')).toBe('AUTH_FAILED');
    expect(await logIn('mallory', PASSWORD)).toBe('welcome'); // takes 1 token, gives 1 back
    expect(await logIn('victim', 'guess 3')).toBe('AUTH_FAILED'); // the third and last
    expect(await logIn('victim', 'guess 4')).toBe('RATE_LIMITED');
  });

  test('a success forgives its own typos: the user+IP budget is whole again, not just its token back', async () => {
    // Stage 7's `succeeded()` is more than a refund: it refills the
    // (user, address) bucket, so someone who mistyped twice and then got in
    // is not left one typo from a lockout for the next hour; it also makes
    // the address known for the user. A node that settled a success like a
    // cancelled attempt (each token back, nothing more) would pass every
    // test above: here the (user, address) budget is the one that bites,
    // the address's own is wide.
    await start({
      perIp: { capacity: 4 * BUDGET, refillMs: 600_000 },
      perUserIp: { capacity: BUDGET, refillMs: 600_000 },
    });
    await createUsers(['typist']);
    expect(await logIn('typist', 'typo 1')).toBe('AUTH_FAILED');
    expect(await logIn('typist', 'typo 2')).toBe('AUTH_FAILED');
    expect(await logIn('typist', PASSWORD)).toBe('welcome'); // on the bucket's last token
    // Forgiven: a whole budget of typos again (a mere refund would leave one).
    const later: string[] = [];
    for (let i = 3; i <= BUDGET + 3; i++) later.push(await logIn('typist', `typo ${i}`));
    expect(later).toEqual([...Array<string>(BUDGET).fill('AUTH_FAILED'), 'RATE_LIMITED']);
  });

  test('logins sent with their FIN are answered and charged: leaving early is no free look-up', async () => {
    // Before, the node ended such a connection at once: the job was dropped
    // unrun and its token came back (stage 7's test).
    const answers: string[] = [];
    for (let i = 0; i <= BUDGET; i++) {
      const client = await connectTo(port);
      client.socket.end(
        JSON.stringify({ type: 'login', user: `user${i}`, password: 'wrong one' }) + '\n',
      );
      const answer = await client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
      answers.push(answer.type === 'error' ? answer.code : answer.type);
      await client.closed; // then our FIN
    }
    expect(answers).toEqual([...Array<string>(BUDGET).fill('AUTH_FAILED'), 'RATE_LIMITED']);
  });

  test('a stale ticket (its key replaced) gives its token back; a forged one keeps it', async () => {
    // What a whole class meets on the morning its tickets expire, or after
    // the operator replaced the ticket key (stage 7's limits test).
    const replacedKey = new LoginTickets({ keys: TicketKeys.generate() });
    const resume = async (user: string, ticket: string) => {
      const client = await connectTo(port);
      client.send({ type: 'resume', user, ticket });
      const answer = await client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
      client.socket.end();
      return answer.type === 'error' ? answer.code : answer.type;
    };
    const stale: string[] = [];
    for (let i = 0; i < 2 * BUDGET; i++) {
      stale.push(await resume(`pupil${i}`, replacedKey.issue(`pupil${i}`).ticket));
    }
    expect(stale).toEqual(Array(2 * BUDGET).fill('TICKET_INVALID'));
    const forged: string[] = [];
    for (let i = 0; i <= BUDGET; i++) forged.push(await resume('pupil0', 'v1.forged'));
    expect(forged).toEqual([...Array(BUDGET).fill('TICKET_INVALID'), 'RATE_LIMITED']);
  });

  test('an attempt that tested no password (BAD_PASSWORD after the permit) gives its token back', async () => {
    await createUsers(['quinn']);
    const tooLong = 'x'.repeat(100); // over bcrypt's 72 bytes: refused before any hashing
    const refused: string[] = [];
    for (let i = 0; i < 2 * BUDGET; i++) refused.push(await logIn('quinn', tooLong));
    expect(refused).toEqual(Array(2 * BUDGET).fill('BAD_PASSWORD'));
    // None of them cost a token: the whole budget of failures is left.
    const guesses: string[] = [];
    for (let i = 0; i <= BUDGET; i++) guesses.push(await logIn('quinn', `wrong guess ${i}`));
    expect(guesses).toEqual([...Array(BUDGET).fill('AUTH_FAILED'), 'RATE_LIMITED']);
  });
}

describeWithRedis('stage 9 login permit lease over Redis', (url) => {
  // A login's marker in Redis ("attempt in flight") must outlast the login
  // itself, however long the node's login deadline is set: a marker that
  // expired mid-login lets a second attempt in beside it, and the first
  // one's refund then finds no marker and gives nothing back. Before, the
  // lease was a fixed 45 s whatever --login-timeout-ms said.
  test("an attempt's marker outlasts the node's login deadline", async () => {
    const keyPrefix = testPrefix();
    const cluster = await startCluster(1, { redisUrl: url, keyPrefix, loginTimeoutMs: 120_000 });
    const direct = new Redis(url);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let lookedUp!: () => void;
    const lookingUp = new Promise<void>((resolve) => (lookedUp = resolve));
    const findUser = cluster.store.findUser.bind(cluster.store);
    cluster.store.findUser = async (name) => {
      lookedUp(); // the permit is taken: its marker is in Redis
      await held;
      return findUser(name);
    };
    try {
      const client = await connectTo(cluster.nodes[0]!.port);
      client.send({ type: 'login', user: 'alice', password: PASSWORD });
      const answered = client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
      await Promise.race([
        lookingUp,
        answered.then((f) => Promise.reject(new Error(`answered before the look-up: ${f.type}`))),
      ]);
      const lease = await direct.pttl(clusterKeys(keyPrefix).loginBusy('alice', '127.0.0.1'));
      expect(lease).toBeGreaterThan(120_000);
      release();
      // AUTH_FAILED: this store has no alice, and the test needs none.
      expect(await answered).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      client.socket.destroy();
    } finally {
      release();
      direct.disconnect();
      await cluster.close();
      await deleteKeys(url, keyPrefix);
    }
  });
});
