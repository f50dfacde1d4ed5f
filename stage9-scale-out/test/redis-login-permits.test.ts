// The login limits in Redis, as three nodes see them (three connections):
// a guesser who spreads attempts over the nodes gets one budget, concurrent
// attempts cannot take more tokens than a bucket holds, and the permit rules
// of stage 6 hold (the buckets count failures: a success gives its tokens
// back, forgives the user+IP bucket and makes the IP known; a cancelled
// attempt gives every token back; one attempt in flight per user and IP), to
// the point of answering a long run of attempts exactly as stage 6's
// limiter does. The clock is passed in, so refills are tested without waiting.
import { Redis } from 'ioredis';
import { isChatError } from '../../shared/src/errors';
import { LoginRateLimiter, type LoginLimits } from '../../shared/src/rate-limit';
import { clusterKeys } from '../src/cluster-keys';
import {
  RedisLoginPermits,
  type LoginPermit,
  type RedisLoginPermitsOptions,
} from '../src/redis-login-permits';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';

describeWithRedis('login permits across nodes (Redis)', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  let connections: Redis[];
  let clock: number;

  /** One limiter per "node", each on its own connection, all on one clock. */
  function nodes(options: RedisLoginPermitsOptions = {}): RedisLoginPermits[] {
    return connections.map(
      (redis) => new RedisLoginPermits(redis, keys, { now: () => clock, ...options }),
    );
  }

  /** Acquires and fails at once (a wrong password); returns the refusal code, if any. */
  async function guess(limits: RedisLoginPermits, ip: string, user: string): Promise<string> {
    try {
      const permit = await limits.acquire(ip, user);
      await permit.failed();
      return 'granted';
    } catch (err) {
      if (isChatError(err)) return err.code;
      throw err;
    }
  }

  beforeEach(() => {
    connections = [new Redis(url), new Redis(url), new Redis(url)];
    clock = 1_000_000;
  });

  afterEach(async () => {
    for (const redis of connections) redis.disconnect();
    await deleteKeys(url, prefix);
  });

  test('a guesser spreading over three nodes gets one budget per user and IP (5), not three', async () => {
    const limits = nodes();
    const outcomes: string[] = [];
    for (let i = 0; i < 9; i++) outcomes.push(await guess(limits[i % 3]!, '10.0.0.9', 'alice'));
    expect(outcomes).toEqual([...Array(5).fill('granted'), ...Array(4).fill('RATE_LIMITED')]);
    // Another address has its own budget; after 12 s this one regains one token.
    expect(await guess(limits[0]!, '10.0.0.10', 'alice')).toBe('granted');
    clock += 12_000;
    expect(await guess(limits[1]!, '10.0.0.9', 'alice')).toBe('granted');
    expect(await guess(limits[2]!, '10.0.0.9', 'alice')).toBe('RATE_LIMITED');
  });

  test('40 concurrent attempts from one IP over three nodes: exactly the burst of 20 is granted', async () => {
    const limits = nodes();
    const permits = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => limits[i % 3]!.acquire('10.0.0.1', `user${i}`)),
    );
    const granted = permits.filter((p) => p.status === 'fulfilled');
    expect(granted).toHaveLength(20);
    for (const p of permits) {
      if (p.status === 'rejected') expect(p.reason).toMatchObject({ code: 'RATE_LIMITED' });
    }
    // The refusal says how long to wait: one token comes back every 3 s.
    const refused = permits.find((p) => p.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason.message)).toMatch(/try again in 3 s/);
  });

  test('one attempt in flight per user and IP; settling twice counts once', async () => {
    const [a, b] = nodes();
    const first = await a!.acquire('10.0.0.2', 'bob');
    await expect(b!.acquire('10.0.0.2', 'bob')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('already in progress'),
    });
    // Another user from that IP, or that user from another IP, is not blocked.
    await (await b!.acquire('10.0.0.2', 'carol')).failed();
    await (await b!.acquire('10.0.0.3', 'bob')).failed();
    await first.failed();
    await first.succeeded(); // ignored: already settled
    const second = await b!.acquire('10.0.0.2', 'bob');
    await second.failed();
    expect(await connections[0]!.exists(keys.loginBusy('bob', '10.0.0.2'))).toBe(0);
  });

  test('a success forgives the user+IP bucket and makes the IP known: the per-user bucket no longer applies', async () => {
    const limits = nodes({ perUser: { capacity: 3, refillMs: 60_000 } });
    // Three failures from three addresses drain dave's per-user bucket (3)...
    for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) {
      expect(await guess(limits[0]!, ip, 'dave')).toBe('granted');
    }
    expect(await guess(limits[1]!, '10.1.0.4', 'dave')).toBe('RATE_LIMITED');
    // ...but an address dave logged in from before is not held back by it.
    clock += 60_000; // one token back
    const permit: LoginPermit = await limits[2]!.acquire('10.9.9.9', 'dave');
    expect(permit.knownIp).toBe(false);
    await permit.succeeded(); // its per-user token comes back: a success costs nothing
    expect(await guess(limits[1]!, '10.1.0.5', 'dave')).toBe('granted'); // that token
    expect(await guess(limits[1]!, '10.1.0.6', 'dave')).toBe('RATE_LIMITED');
    const known = await limits[0]!.acquire('10.9.9.9', 'dave');
    expect(known.knownIp).toBe(true);
    await known.failed();
    // Success refilled the user+IP bucket: five more tries from there.
    for (let i = 0; i < 4; i++)
      expect(await guess(limits[i % 3]!, '10.9.9.9', 'dave')).toBe('granted');
  });

  test('a success costs nothing: more correct logins than any bucket holds, from one IP or for one user', async () => {
    const small = { capacity: 2, refillMs: 600_000 };
    const limits = nodes({ perIp: small, perUser: small });
    /** Acquires and succeeds: a right password. */
    const logIn = async (node: number, ip: string, user: string) => {
      const permit = await limits[node % 3]!.acquire(ip, user);
      await permit.succeeded();
    };
    // Six users behind one NAT (per-IP bucket: 2)...
    for (let i = 0; i < 6; i++) await logIn(i, '10.2.0.1', `nat${i}`);
    // ...and one user from six new addresses (per-user bucket: 2, taken each time).
    for (let i = 0; i < 6; i++) await logIn(i, `10.3.0.${i}`, 'gwen');
    // The budgets are whole, and still count failures.
    expect(await guess(limits[0]!, '10.2.0.1', 'nat0')).toBe('granted');
    expect(await guess(limits[1]!, '10.2.0.1', 'nat1')).toBe('granted');
    expect(await guess(limits[2]!, '10.2.0.1', 'nat2')).toBe('RATE_LIMITED');
    expect(await guess(limits[0]!, '10.4.0.1', 'gwen')).toBe('granted');
    expect(await guess(limits[1]!, '10.4.0.2', 'gwen')).toBe('granted');
    expect(await guess(limits[2]!, '10.4.0.3', 'gwen')).toBe('RATE_LIMITED');
  });

  test('a cancelled attempt (no password tested) gives back every token it took', async () => {
    const small = { capacity: 2, refillMs: 600_000 };
    const limits = nodes({ perIp: small, perUserIp: small, perUser: small });
    for (let i = 0; i < 5; i++) {
      const permit = await limits[i % 3]!.acquire('10.5.0.1', 'hank');
      await permit.cancelled();
    }
    // All three buckets (2 each) are whole: two failures, then refused.
    expect(await guess(limits[0]!, '10.5.0.1', 'hank')).toBe('granted');
    expect(await guess(limits[1]!, '10.5.0.1', 'hank')).toBe('granted');
    expect(await guess(limits[2]!, '10.5.0.1', 'hank')).toBe('RATE_LIMITED');
    expect(await connections[0]!.exists(keys.loginBusy('hank', '10.5.0.1'))).toBe(0);
  });

  test('300 attempts, one at a time, are answered exactly as stage 6’s limiter answers them', async () => {
    // Small buckets, so the run hits every limit many times. Refills and clock
    // steps are chosen so token counts are exact binary fractions (halves,
    // quarters) in both JavaScript and Lua: the comparison is of the rules,
    // not of rounding.
    const buckets: Pick<LoginLimits, 'perIp' | 'perUserIp' | 'perUser'> = {
      perIp: { capacity: 3, refillMs: 60_000 },
      perUserIp: { capacity: 2, refillMs: 120_000 },
      perUser: { capacity: 4, refillMs: 60_000 },
    };
    const shared = nodes(buckets);
    const reference = new LoginRateLimiter({ ...buckets, now: () => clock });
    const ips = ['10.6.0.1', '10.6.0.2', '10.6.0.3', '10.6.0.4'];
    const users = ['ivy', 'jack', 'kim'];
    const outcomes = ['succeeded', 'failed', 'failed', 'cancelled'] as const;
    let seed = 42; // a fixed pseudo-random run, the same every time
    const next = (n: number) => {
      seed = (seed * 48_271) % 2_147_483_647; // Park-Miller: exact in a double
      return Math.floor((seed / 2_147_483_647) * n);
    };
    const expected: string[] = [];
    const actual: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (next(8) === 0) clock += 30_000;
      const [ip, user, outcome] = [ips[next(4)]!, users[next(3)]!, outcomes[next(4)]!];
      const step = `${i} ${ip} ${user} ${outcome}: `;
      try {
        reference.acquire(ip, user, 'login')[outcome]();
        expected.push(`${step}granted`);
      } catch (err) {
        expected.push(step + (isChatError(err) ? err.code : String(err)));
      }
      try {
        await (await shared[i % 3]!.acquire(ip, user))[outcome]();
        actual.push(`${step}granted`);
      } catch (err) {
        actual.push(step + (isChatError(err) ? err.code : String(err)));
      }
    }
    expect(actual).toEqual(expected);
    // The run means something: both answers occur often.
    const count = (end: string) => expected.filter((line) => line.endsWith(end)).length;
    expect(count('granted')).toBeGreaterThan(50);
    expect(count('RATE_LIMITED')).toBeGreaterThan(50);
  });

  test('buckets are keys with TTLs: an idle bucket is gone once it would be full again', async () => {
    const [a] = nodes();
    await (await a!.acquire('10.0.0.7', 'erin')).failed();
    const ttl = async (key: string) => connections[0]!.pttl(key);
    // One token taken: full again after one refill interval.
    expect(await ttl(keys.loginIp('10.0.0.7'))).toBeGreaterThan(0);
    expect(await ttl(keys.loginIp('10.0.0.7'))).toBeLessThanOrEqual(3_000);
    expect(await ttl(keys.loginUserIp('erin', '10.0.0.7'))).toBeLessThanOrEqual(12_000);
    expect(await ttl(keys.loginUser('erin'))).toBeLessThanOrEqual(6_000);
  });

  test('an emptied bucket is kept until it would be full again, not for one refill interval', async () => {
    // A missing bucket counts as full. If an emptied bucket's key expired
    // after one token's refill time (12 s) instead of the whole bucket's
    // (5 × 12 s), a guesser would get 5 fresh tries every 12 s instead of one:
    // the brute-force limit would be five times weaker, on every node at once.
    const [a] = nodes();
    for (let i = 0; i < 5; i++) expect(await guess(a!, '10.0.0.12', 'nora')).toBe('granted');
    expect(await guess(a!, '10.0.0.12', 'nora')).toBe('RATE_LIMITED');
    // The TTL is read, not waited for; a little slack for the real time the test took.
    const slack = 2_000;
    expect(await connections[0]!.pttl(keys.loginUserIp('nora', '10.0.0.12'))).toBeGreaterThan(
      5 * 12_000 - slack,
    );
    // The per-IP bucket (20, +1 every 3 s) lost 5 tokens: 15 s to be full again.
    expect(await connections[0]!.pttl(keys.loginIp('10.0.0.12'))).toBeGreaterThan(
      5 * 3_000 - slack,
    );
  });

  test('a clock stepped back takes no tokens away: time never runs backwards into a bucket', async () => {
    // Redis's clock can jump back (an operator fixes it, or a replica with a
    // slower clock takes over). The elapsed time is then negative; counting
    // it would drain buckets, refusing people who made no failed attempt.
    const [a, b] = nodes();
    expect(await guess(a!, '10.0.0.13', 'olga')).toBe('granted'); // 4 of 5 left
    clock -= 120_000; // two minutes back: ten refill intervals of the user+IP bucket
    // Still 4 tokens: four more guesses, then refused, as with no clock step.
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await guess(b!, '10.0.0.13', 'olga'));
    expect(outcomes).toEqual([...Array(4).fill('granted'), 'RATE_LIMITED']);
  });

  test('a clock stepped back takes nothing from a refund either', async () => {
    // The same guard, in the script that gives tokens back: an attempt taken
    // before the step and cancelled after it returns its whole token.
    const [a, b] = nodes();
    const permit = await a!.acquire('10.0.0.14', 'pia'); // 4 of 5 left
    clock -= 120_000;
    await permit.cancelled(); // back to 5, not to 4 - 10 + 1
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await guess(b!, '10.0.0.14', 'pia'));
    expect(outcomes).toEqual([...Array(5).fill('granted'), 'RATE_LIMITED']);
  });

  test('a permit whose lease ran out does not remove a newer attempt’s in-flight marker', async () => {
    // An attempt whose node stalled past its lease: its marker is gone
    // and a newer attempt (same user, same IP) holds one of its own. When the
    // old attempt settles at last, it must remove only its own marker; if it
    // removed the newer one, a third attempt could run alongside the newer
    // one, and "one attempt in flight per user and IP" would not hold.
    const [a, b, c] = nodes();
    const ip = '10.0.0.15';
    const busy = keys.loginBusy('quinn', ip);
    for (const outcome of ['succeeded', 'failed', 'cancelled'] as const) {
      const old = await a!.acquire(ip, 'quinn');
      // What Redis does when the lease runs out, done now instead of waiting.
      await connections[0]!.del(busy);
      const newer = await b!.acquire(ip, 'quinn');
      await old[outcome]();
      expect({ outcome, marker: await connections[0]!.exists(busy) }).toEqual({
        outcome,
        marker: 1,
      });
      await expect(c!.acquire(ip, 'quinn')).rejects.toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringContaining('already in progress'),
      });
      await newer.cancelled();
    }
  });

  test('without Redis there is no permit: SERVICE_UNAVAILABLE, never an unlimited attempt', async () => {
    // A node cut off from Redis: its connection is down and does not queue.
    const cutOff = new Redis(url, { lazyConnect: true, enableOfflineQueue: false });
    await cutOff.connect();
    cutOff.disconnect();
    const limits = new RedisLoginPermits(cutOff, keys);
    await expect(limits.acquire('10.0.0.8', 'frank')).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
  });
});
