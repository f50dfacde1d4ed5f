/**
 * Login rate limits that hold across nodes: stage 6's three token buckets,
 * kept in Redis and taken with one atomic script.
 *
 * Stage 6 keeps its buckets in the process's memory. With three nodes behind
 * one address, a guesser who spreads attempts over the nodes gets three
 * budgets; with the buckets in Redis, every node draws from the same ones.
 *
 * The contract is stage 6's *permit*: a token is taken from every bucket that
 * applies *before* any password work, atomically, and the attempt is refused
 * with `RATE_LIMITED` if any bucket is empty. "Check, then await bcrypt, then
 * record the failure" would let a burst of concurrent attempts all pass the
 * check before the first failure is recorded; with a permit, concurrent
 * attempts cannot take more tokens than there are.
 *
 * | bucket                          | default          | applies                   |
 * | ------------------------------- | ---------------- | ------------------------- |
 * | per IP                          | 20, +1 every 3 s | always                    |
 * | per (user, IP)                  | 5, +1 every 12 s | always                    |
 * | per user, from unknown IPs      | 50, +1 every 6 s | IP never logged in as him |
 *
 * The permit is settled with stage 6's three outcomes, and gives back
 * exactly what stage 6's does (see `shared/src/rate-limit.ts`):
 *
 * | outcome       | per IP      | per (user, IP)            | per user (if taken) |
 * | ------------- | ----------- | ------------------------- | ------------------- |
 * | `succeeded()` | token back  | refilled (typos forgiven) | token back          |
 * | `failed()`    | stays spent | stays spent               | stays spent         |
 * | `cancelled()` | token back  | token back                | token back          |
 *
 * The buckets count *failures*: a token is taken up front only because the
 * outcome is not known yet, and a success or an attempt that tested no
 * password returns it. Without the refund every login would cost a token, and
 * 21 people behind one NAT reconnecting after a node restart would find the
 * 21st locked out by logins that all succeeded. A success gives back only its
 * *own* tokens, never those failures spent: an attacker who logs into their
 * own account between guesses gains nothing. `succeeded()` also remembers the
 * IP as known for the user (the 8 most recent, for 30 days).
 *
 * Each settlement is one script, like the acquire: "read the bucket, add one,
 * write it back" from Node would race with another node's acquire between the
 * read and the write, and one of the two updates would be lost.
 *
 * Only one attempt per (user, IP) may be in flight: a second one is refused
 * until the first settles (or its lease runs out, if its node died
 * mid-attempt: its tokens then stay spent, the strict side). The server
 * sets the lease 15 s past its login deadline (30 s by default), so a live
 * attempt always holds its marker until it settles. The price: a node that
 * dies mid-login keeps that user out from that address for the lease.
 *
 * **A settlement that cannot reach Redis is kept and sent again** (on the
 * link's next heartbeat or rejoin, {@link RedisLoginPermits.settlePending}).
 * Lost, it left the marker behind: after a two-second blip during a login,
 * the user's next attempts were refused "already in progress" for the rest
 * of the lease. Sending a script twice must not give tokens back twice (its
 * first run may have happened, with only the reply lost), so the success and
 * cancel scripts act only while the permit's own marker is there, and
 * delete it: a second run finds nothing and changes nothing.
 *
 * One difference from stage 6 remains, under concurrency only: a bucket that
 * is empty just because attempts still in flight hold its tokens answers
 * `RATE_LIMITED` here, where stage 6 answers `SERVICE_UNAVAILABLE` ("too
 * many at once", retry in a second). Stage 6 counts the tokens held; here
 * that count would have to expire with the leases of nodes that died (an
 * exercise). Attempts one after another are answered exactly as stage 6
 * answers them (the tests compare the two over a long run).
 *
 * Buckets refill lazily (the script adds what the elapsed time has earned)
 * and expire when they would be full again, so idle buckets cost no memory.
 * The clock is Redis's (`TIME`), the same for every node; tests may pass one.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChatError } from '../../shared/src/errors';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from '../../shared/src/rate-limit';

/** The three login buckets this module keeps in Redis (registrations are not yet shared). */
type LoginBuckets = Pick<LoginLimits, 'perIp' | 'perUserIp' | 'perUser'>;
import type { ClusterKeys } from './cluster-keys';
import { LuaScript } from './lua-script';

/** One login attempt's permit: settle it exactly once with the outcome. */
export interface LoginPermit {
  /** Whether this IP had logged in as this user before (the per-user bucket did not apply). */
  readonly knownIp: boolean;
  /**
   * The password was right: its per-IP and per-user tokens go back, this IP's
   * earlier typos are forgiven, and the IP is remembered.
   */
  succeeded(): Promise<void>;
  /** A password (or ticket) was tested and was wrong: the tokens stay taken. */
  failed(): Promise<void>;
  /** No password was tested (refused before it, or dropped by the server): every token goes back. */
  cancelled(): Promise<void>;
}

/** Where login permits come from (this module across nodes, stage 6's in one process). */
export interface LoginPermits {
  /**
   * Takes one token from every bucket that applies, or refuses.
   *
   * @param ip - the client's address (IPv6 grouped by /64 by the caller)
   * @param username - the validated username tried
   * @throws ChatError `RATE_LIMITED` (saying how long to wait), or
   *   `SERVICE_UNAVAILABLE` if Redis cannot be reached: no permit, no attempt
   */
  acquire(ip: string, username: string): Promise<LoginPermit>;
}

/** Options for {@link RedisLoginPermits}; every field has a default. */
export interface RedisLoginPermitsOptions extends Partial<LoginBuckets> {
  /** Known IPs remembered per user. Default 8. */
  knownIpsPerUser?: number;
  /** How long a known IP is remembered, in ms. Default 30 days. */
  knownIpTtlMs?: number;
  /** How long an unsettled attempt blocks the next one, in ms; longer than a login may take. Default 45 s. */
  leaseMs?: number;
  /** A clock in ms, for tests. Default: Redis's own `TIME`. */
  now?: () => number;
}

const LUA_CLOCK = `local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// KEYS: ip, user-ip, user buckets, known IPs, busy marker.
// ARGV: clock ('' = TIME), ip, permit id, lease, then capacity and refill ms
// of each bucket. Returns {1, known} or {0, wait ms} (-1: an attempt is in flight).
const ACQUIRE = new LuaScript(
  'acquire',
  `${LUA_CLOCK}
if redis.call('EXISTS', KEYS[5]) == 1 then return {0, -1} end
local known = redis.call('ZSCORE', KEYS[4], ARGV[2]) ~= false
local buckets = known and 2 or 3
local tokens = {}
local wait = 0
for i = 1, buckets do
  local capacity, refill = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local t = capacity
  if state[1] then
    t = math.min(capacity, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) / refill)
  end
  tokens[i] = t
  if t < 1 then wait = math.max(wait, math.ceil((1 - t) * refill)) end
end
if wait > 0 then return {0, wait} end
for i = 1, buckets do
  local capacity, refill = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local left = tokens[i] - 1
  redis.call('HSET', KEYS[i], 'tokens', tostring(left), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil((capacity - left) * refill))
end
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
return {1, known and 1 or 0}
`,
);

// Gives one token back to the bucket at `key` (stage 6's `giveBack`): refill
// it for the time elapsed, add one, and forget it once it is full again (a
// missing key *is* a full bucket, so there is nothing to give back to).
// Never above capacity: a refund is not a bonus.
const LUA_GIVE_BACK = `local function give_back(key, capacity, refill)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  if not state[1] then return end
  local t = tonumber(state[1]) + math.max(0, now - tonumber(state[2])) / refill + 1
  if t >= capacity then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'tokens', tostring(t), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((capacity - t) * refill))
end
`;

// KEYS: ip, user-ip, user buckets, known IPs, busy marker.
// ARGV: clock, ip, permit id, known IPs kept, known IP TTL, buckets taken
// (2 from a known IP, 3 otherwise), then capacity and refill ms of the ip and
// user buckets. The per-user token goes back only if it was taken.
const SUCCEEDED = new LuaScript(
  'succeeded',
  `${LUA_CLOCK}${LUA_GIVE_BACK}
if redis.call('GET', KEYS[5]) ~= ARGV[3] then return 0 end
give_back(KEYS[1], tonumber(ARGV[7]), tonumber(ARGV[8]))
if tonumber(ARGV[6]) == 3 then give_back(KEYS[3], tonumber(ARGV[9]), tonumber(ARGV[10])) end
redis.call('DEL', KEYS[2])
redis.call('ZADD', KEYS[4], now, ARGV[2])
local extra = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[4], ARGV[5])
redis.call('DEL', KEYS[5])
return 1
`,
);

// KEYS: ip, user-ip, user buckets, busy marker.
// ARGV: clock, permit id, buckets taken (2 or 3), then capacity and refill ms
// of each bucket, in the order of the keys. Every token taken goes back.
const CANCELLED = new LuaScript(
  'cancelled',
  `${LUA_CLOCK}${LUA_GIVE_BACK}
if redis.call('GET', KEYS[4]) ~= ARGV[2] then return 0 end
for i = 1, tonumber(ARGV[3]) do
  give_back(KEYS[i], tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i]))
end
redis.call('DEL', KEYS[4])
return 1
`,
);

// KEYS: busy marker. ARGV: permit id. Compare-and-delete: only its own marker.
const FAILED = new LuaScript(
  'failed',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
);

/** Login permits whose buckets live in Redis, shared by every node. */
export class RedisLoginPermits implements LoginPermits {
  private readonly limits: LoginBuckets;
  private readonly knownIpsPerUser: number;
  private readonly knownIpTtlMs: number;
  private readonly leaseMs: number;
  private readonly now: (() => number) | undefined;
  // Settlements that could not reach Redis, by permit id (see settlePending).
  private readonly pending = new Map<string, { step: () => Promise<unknown>; until: number }>();

  /**
   * @param redis - a command connection (the link's `cmd`)
   * @param keys - the cluster's names
   * @param options - limits (default stage 6's), lease, clock
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    options: RedisLoginPermitsOptions = {},
  ) {
    this.limits = {
      perIp: options.perIp ?? DEFAULT_LOGIN_LIMITS.perIp,
      perUserIp: options.perUserIp ?? DEFAULT_LOGIN_LIMITS.perUserIp,
      perUser: options.perUser ?? DEFAULT_LOGIN_LIMITS.perUser,
    };
    this.knownIpsPerUser = options.knownIpsPerUser ?? 8;
    this.knownIpTtlMs = options.knownIpTtlMs ?? 30 * 24 * 3600 * 1000;
    this.leaseMs = options.leaseMs ?? 45_000;
    this.now = options.now;
  }

  /** Takes a permit (see {@link LoginPermits.acquire}) with the `acquire` script. */
  async acquire(ip: string, username: string): Promise<LoginPermit> {
    const { keys } = this;
    const id = randomBytes(8).toString('hex');
    const busy = keys.loginBusy(username, ip);
    const { perIp, perUserIp, perUser } = this.limits;
    const reply = await this.call(() =>
      ACQUIRE.run(
        this.redis,
        [
          keys.loginIp(ip),
          keys.loginUserIp(username, ip),
          keys.loginUser(username),
          keys.loginKnown(username),
          busy,
        ],
        [
          this.clock(),
          ip,
          id,
          this.leaseMs,
          ...[perIp, perUserIp, perUser].flatMap((b) => [b.capacity, b.refillMs]),
        ],
      ),
    );
    const [granted, detail] = Array.isArray(reply) ? reply : [];
    if (typeof detail !== 'number') {
      throw new ChatError('SERVICE_UNAVAILABLE', 'unexpected answer from the login limits');
    }
    if (granted !== 1 && detail === -1) {
      throw new ChatError(
        'RATE_LIMITED',
        'a login for this user from this address is already in progress',
      );
    }
    if (granted !== 1) {
      const seconds = Math.ceil(detail / 1000);
      throw new ChatError('RATE_LIMITED', `too many failed logins; try again in ${seconds} s`);
    }
    let settled = false;
    const settle = async (step: () => Promise<unknown>) => {
      if (settled) return;
      settled = true;
      try {
        await this.call(step);
      } catch (err) {
        // Kept until the marker's lease ends: after that, the script would
        // find no marker and change nothing anyway.
        this.pending.set(id, { step, until: Date.now() + this.leaseMs });
        throw err;
      }
    };
    // The acquire script took the per-user token only from an unknown IP;
    // a refund must give back what was taken, no more (the IP may have become
    // known meanwhile, so the settlement scripts are told, not left to look).
    const knownIp = detail === 1;
    const taken = knownIp ? 2 : 3;
    const bucketKeys = [keys.loginIp(ip), keys.loginUserIp(username, ip), keys.loginUser(username)];
    return {
      knownIp,
      succeeded: () =>
        settle(() =>
          SUCCEEDED.run(
            this.redis,
            [...bucketKeys, keys.loginKnown(username), busy],
            [
              this.clock(),
              ip,
              id,
              this.knownIpsPerUser,
              this.knownIpTtlMs,
              taken,
              ...[perIp, perUser].flatMap((b) => [b.capacity, b.refillMs]),
            ],
          ),
        ),
      failed: () => settle(() => FAILED.run(this.redis, [busy], [id])),
      cancelled: () =>
        settle(() =>
          CANCELLED.run(
            this.redis,
            [...bucketKeys, busy],
            [
              this.clock(),
              id,
              taken,
              ...[perIp, perUserIp, perUser].flatMap((b) => [b.capacity, b.refillMs]),
            ],
          ),
        ),
    };
  }

  /**
   * Sends again the settlements that could not reach Redis (see the module
   * comment); the cluster node calls it on every heartbeat and rejoin.
   * Those that fail again stay for the next call.
   */
  async settlePending(): Promise<void> {
    for (const [id, { step, until }] of [...this.pending]) {
      if (Date.now() > until) {
        this.pending.delete(id); // its marker is gone: nothing left to settle
        continue;
      }
      await this.call(step);
      this.pending.delete(id);
    }
  }

  private clock(): string {
    return this.now === undefined ? '' : String(this.now());
  }

  private async call<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch {
      throw new ChatError(
        'SERVICE_UNAVAILABLE',
        'the login limits cannot be checked (the cluster is unreachable); try again shortly',
      );
    }
  }
}
