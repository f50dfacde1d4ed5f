/**
 * Failed-login rate limiting: slow down password guessing without handing an
 * attacker a way to lock real users out.
 *
 * Introduced by stage 6. Every guess at a password costs the attacker one
 * round trip and us one bcrypt comparison (a quarter of a second of CPU at
 * cost 12), so unlimited guessing is both a brute-force risk and a cheap way
 * to burn our CPU. The naive fix, "lock the account after 5 failures", is worse:
 * anyone who knows a username can then lock its owner out at will.
 *
 * The design: three token buckets, each counting *failed* attempts only.
 *
 * | bucket            | guards against                                | default          |
 * | ----------------- | --------------------------------------------- | ---------------- |
 * | per IP            | one machine guessing across many usernames    | 20, +1 every 3 s |
 * | per user + IP     | one machine guessing one user's password      | 5, +1 every 12 s |
 * | per user (global) | many machines (a botnet) guessing one user    | 50, +1 every 6 s |
 *
 * A bucket holds up to `capacity` tokens and regains one every `refillMs`;
 * each failure takes one; an attempt is refused with `RATE_LIMITED` while a
 * bucket it needs is empty. So a "lockout" is never longer than one refill
 * interval after the attacker stops, and a quiet user never notices.
 *
 * Why the legitimate user is not locked out:
 * - Failures from the attacker's IP land in *their* user+IP bucket, not in
 *   the one for the real user's IP, which keeps its own budget.
 * - The global per-user bucket is the only one an attacker elsewhere can
 *   drain, and it does not apply to an IP that has logged in as that user
 *   before (a "known IP", the idea behind OWASP's device cookies).
 * - A successful login refills that user+IP bucket (typos are forgiven) but
 *   never the per-IP bucket: otherwise an attacker could log into their own
 *   account between guesses to reset their budget.
 *
 * Limits: state lives in this process's memory (a restart forgets it; several
 * servers would need a shared store), and many IPs can share one NAT address.
 *
 * @module
 */
import { ChatError } from './errors';

/** Size and refill rate of one kind of bucket. */
export interface BucketLimit {
  /** Failures allowed in a burst. */
  capacity: number;
  /** Milliseconds to regain one allowed failure. */
  refillMs: number;
}

/** The three limits of a {@link LoginRateLimiter}. */
export interface LoginLimits {
  /** Failures per client IP, across all usernames. */
  readonly perIp: BucketLimit;
  /** Failures per (username, IP) pair. */
  readonly perUserIp: BucketLimit;
  /** Failures per username from IPs that never logged in as that user. */
  readonly perUser: BucketLimit;
}

/** Options for {@link LoginRateLimiter}; every field has a default. */
export interface LoginRateLimitOptions extends Partial<LoginLimits> {
  /** Known IPs remembered per user. Default 8. */
  knownIpsPerUser?: number;
  /** The clock, in milliseconds. Default `Date.now` (jest fake timers control it). */
  now?: () => number;
}

/** The defaults described in the module comment. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perIp: { capacity: 20, refillMs: 3_000 },
  perUserIp: { capacity: 5, refillMs: 12_000 },
  perUser: { capacity: 50, refillMs: 6_000 },
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Many token buckets with one limit, created on first failure and forgotten
 * once full again, so memory grows with current attackers, not with history.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * @param limit - capacity and refill interval shared by every bucket
   * @param now - the clock in milliseconds
   * @param maxKeys - buckets kept at most; past it the oldest are dropped
   */
  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Milliseconds until `key` may fail again: 0 when it has a token left.
   *
   * @param key - what the bucket counts (an IP, a username...)
   */
  waitMs(key: string): number {
    const bucket = this.refill(key);
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) * this.limit.refillMs);
  }

  /** Takes one token from `key`'s bucket (never below zero). */
  take(key: string): void {
    const bucket = this.refill(key) ?? { tokens: this.limit.capacity, updatedAt: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.delete(key); // re-insert so Map order is least recently used first
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  /** Forgets `key`'s bucket, which is the same as a full one. */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  /** Number of buckets currently held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  // Lazy refill: rather than a timer per bucket, add what time has earned
  // whenever the bucket is looked at.
  private refill(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return undefined;
    const now = this.now();
    bucket.tokens += (now - bucket.updatedAt) / this.limit.refillMs;
    bucket.updatedAt = now;
    if (bucket.tokens >= this.limit.capacity) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }
}

/**
 * The login rate limiter: call {@link check} before doing any password work,
 * then {@link recordFailure} or {@link recordSuccess} with the outcome.
 *
 * @example
 * ```ts
 * const limiter = new LoginRateLimiter({ perUserIp: { capacity: 1, refillMs: 60_000 } });
 * limiter.check('10.0.0.1', 'alice');        // ok
 * limiter.recordFailure('10.0.0.1', 'alice');
 * limiter.check('10.0.0.1', 'alice');        // throws ChatError RATE_LIMITED
 * limiter.check('10.0.0.2', 'alice');        // ok: another IP has its own budget
 * ```
 */
export class LoginRateLimiter {
  private readonly perIp: TokenBuckets;
  private readonly perUserIp: TokenBuckets;
  private readonly perUser: TokenBuckets;
  private readonly knownIps = new Map<string, string[]>();
  private readonly knownIpsPerUser: number;

  /** @param options - bucket sizes and the clock; defaults in {@link DEFAULT_LOGIN_LIMITS} */
  constructor(options: LoginRateLimitOptions = {}) {
    const now = options.now ?? (() => Date.now());
    this.perIp = new TokenBuckets(options.perIp ?? DEFAULT_LOGIN_LIMITS.perIp, now);
    this.perUserIp = new TokenBuckets(options.perUserIp ?? DEFAULT_LOGIN_LIMITS.perUserIp, now);
    this.perUser = new TokenBuckets(options.perUser ?? DEFAULT_LOGIN_LIMITS.perUser, now);
    this.knownIpsPerUser = options.knownIpsPerUser ?? 8;
  }

  /**
   * Refuses an attempt whose buckets are empty. Cheap: call it before hashing,
   * so a refused guess costs no bcrypt work.
   *
   * @param ip - the client's address
   * @param username - the (validated) username it tries
   * @throws ChatError `RATE_LIMITED` naming how many seconds to wait
   */
  check(ip: string, username: string): void {
    const waits = [this.perIp.waitMs(ip), this.perUserIp.waitMs(pair(username, ip))];
    if (!this.isKnownIp(username, ip)) waits.push(this.perUser.waitMs(username));
    const wait = Math.max(...waits);
    if (wait > 0) {
      throw new ChatError(
        'RATE_LIMITED',
        `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`,
      );
    }
  }

  /**
   * Counts one failed attempt (wrong password, unknown user, name taken).
   *
   * @param ip - the client's address
   * @param username - the username it tried
   */
  recordFailure(ip: string, username: string): void {
    this.perIp.take(ip);
    this.perUserIp.take(pair(username, ip));
    if (!this.isKnownIp(username, ip)) this.perUser.take(username);
  }

  /**
   * Counts a successful login: forgives this IP's typos for this user and
   * remembers the IP as known for the user.
   *
   * @param ip - the client's address
   * @param username - the user who logged in
   */
  recordSuccess(ip: string, username: string): void {
    this.perUserIp.reset(pair(username, ip));
    // concat, not push: it makes an array of exactly the right length, and one
    // is kept per user who logged in (push would reserve room for 16 more).
    const known = (this.knownIps.get(username) ?? []).filter((k) => k !== ip).concat(ip);
    if (known.length > this.knownIpsPerUser) known.shift();
    this.knownIps.delete(username);
    this.knownIps.set(username, known);
    // Bound the memory: forget the least recently active user's known IPs.
    if (this.knownIps.size > 100_000) {
      const oldest = this.knownIps.keys().next().value;
      if (oldest !== undefined) this.knownIps.delete(oldest);
    }
  }

  private isKnownIp(username: string, ip: string): boolean {
    return this.knownIps.get(username)?.includes(ip) ?? false;
  }
}

// A separator that cannot appear in a validated username keeps pairs unambiguous.
function pair(username: string, ip: string): string {
  return `${username} ${ip}`;
}
