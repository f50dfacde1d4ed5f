/**
 * Login and registration rate limiting: slow down password guessing and
 * account farming without handing an attacker a way to lock real users out.
 *
 * Introduced by stage 6. Every guess at a password costs the attacker one
 * round trip and us one bcrypt comparison (a quarter of a second of CPU at
 * cost 12), so unlimited guessing is both a brute-force risk and a cheap way
 * to burn our CPU. The naive fix, "lock the account after 5 failures", is worse:
 * anyone who knows a username can then lock its owner out at will.
 *
 * The design: token buckets, keyed per address (`addressGroup`: IPv6
 * by /64), per user, or server-wide.
 *
 * | bucket                    | guards against                                | default             |
 * | ------------------------- | --------------------------------------------- | ------------------- |
 * | per IP                    | one machine guessing across many usernames    | 20, +1 every 3 s    |
 * | per user + IP             | one machine guessing one user's password      | 5, +1 every 12 s    |
 * | per user (global)         | many machines (a botnet) guessing one user    | 50, +1 every 6 s    |
 * | registrations per IP      | one machine creating junk accounts            | 10, +1 every 6 min  |
 * | registrations, all        | many machines creating junk accounts          | 30, +1 every 2 s    |
 *
 * A bucket holds up to `capacity` tokens and regains one every `refillMs`.
 *
 * **Permits, not checks.** The limit is taken *before* the work it guards, in
 * one synchronous step: {@link LoginRateLimiter.acquire} takes one token from
 * every bucket that applies, or from none and throws `RATE_LIMITED`. Checking
 * first and recording the failure after the password was hashed does not
 * work: thirty guesses sent at once all pass the check before the first one
 * is recorded (issue 10 measured 60 real guesses against a budget of 8). The
 * permit it returns is settled exactly once with the outcome:
 *
 * - {@link LoginPermit.failed}: a password was tested and was wrong (or a
 *   registration hit a taken name): the tokens stay spent;
 * - {@link LoginPermit.succeeded}: the password was right: the per-IP and
 *   per-user tokens are given back (a success costs nothing), the user+IP
 *   bucket is refilled (typos are forgiven), the address is remembered as
 *   known for the user, and a registration keeps its registration tokens
 *   (registrations are what those buckets count);
 * - {@link LoginPermit.cancelled}: no password was tested (the database was
 *   down, the hashing queue was full, the login deadline passed): every token
 *   is given back. A client that left while its job waited is the exception:
 *   see {@link settleDropped}.
 *
 * And **at most one attempt per (user, IP) is in flight**: a second one while
 * the first is being checked is refused with `RATE_LIMITED`, so the user+IP
 * budget cannot be spent in parallel either. A bucket that is empty only
 * because its tokens are held by attempts still in flight (fifty classmates
 * behind one NAT logging in at once) answers `SERVICE_UNAVAILABLE` with a
 * retry hint instead: "too many at once", not "too many failures".
 *
 * Why the legitimate user is not locked out:
 * - Failures from the attacker's IP land in *their* user+IP bucket, not in
 *   the one for the real user's IP, which keeps its own budget.
 * - The global per-user bucket is the only one an attacker elsewhere can
 *   drain, and it does not apply to an IP that has logged in as that user
 *   before (a "known IP", the idea behind OWASP's device cookies).
 * - A success gives back only its own tokens, never the ones failures spent:
 *   otherwise an attacker could log into their own account between guesses
 *   to reset their budget.
 *
 * **The contract, for another implementation.** Stage 9 keeps these buckets
 * in Redis so that several servers share them. The same contract holds there:
 * `acquire` is one atomic step (a Lua script: refill, check every bucket,
 * decrement every bucket, set the in-flight key with a TTL, or change
 * nothing), it may be asynchronous but must complete before any password work
 * starts, and each settlement is one more atomic script. The in-flight key's
 * TTL (longer than the login deadline) frees a permit whose holder died.
 *
 * Limits: here the state lives in this process's memory (a restart forgets
 * it), and many users behind one NAT share one address's budget.
 *
 * @module
 */
import { ChatError } from './errors';
import { inWords, RetryAfterError } from './retry-after';

/** Size and refill rate of one kind of bucket. */
export interface BucketLimit {
  /** Tokens in a full bucket: how many attempts a burst may make. */
  capacity: number;
  /** Milliseconds to regain one token. */
  refillMs: number;
}

/** The five limits of a {@link LoginRateLimiter}. */
export interface LoginLimits {
  /** Attempts per client address, across all usernames. */
  readonly perIp: BucketLimit;
  /** Attempts per (username, address) pair. */
  readonly perUserIp: BucketLimit;
  /** Attempts per username from addresses that never logged in as that user. */
  readonly perUser: BucketLimit;
  /** Registrations per client address. */
  readonly registrationsPerIp: BucketLimit;
  /** Registrations across the whole server. */
  readonly registrations: BucketLimit;
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
  registrationsPerIp: { capacity: 10, refillMs: 360_000 },
  registrations: { capacity: 30, refillMs: 2_000 },
};

/**
 * The retry hint, in milliseconds, for an attempt refused because its
 * address's budget is all held by attempts still in flight.
 */
export const BUSY_RETRY_MS = 1_000;

/** What a register or login attempt is, for the buckets it takes. */
export type AttemptKind = 'login' | 'register';

/**
 * The right to make one attempt, taken by {@link LoginRateLimiter.acquire}.
 * Settle it exactly once with what happened; later calls do nothing.
 */
export interface LoginPermit {
  /** The password was right (or the account was created). */
  succeeded(): void;
  /** A password was tested and was wrong, or the name was taken. */
  failed(): void;
  /** No password was tested: every token goes back. */
  cancelled(): void;
}

/**
 * What a connection aborts its login attempt with when its client closed
 * the connection (the server was not shutting down). See {@link settleDropped}.
 */
export class ClientLeft extends Error {
  constructor() {
    super('the client closed the connection');
  }
}

/**
 * Settles the permit of an attempt whose hashing job was dropped unrun
 * because its connection aborted it. No password was tested, but the
 * attempt cost a look-up and a place in the queue: if the client left
 * ({@link ClientLeft}), it pays what a wrong guess pays, or sending a login
 * and closing, over and over, would cost it nothing. A drop the server
 * caused (its login deadline, its shutdown) gives every token back.
 *
 * @param permit - the attempt's permit, if it got one
 * @param reason - the abort signal's reason
 */
export function settleDropped(permit: LoginPermit | undefined, reason: unknown): void {
  if (reason instanceof ClientLeft) permit?.failed();
  else permit?.cancelled();
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Many token buckets with one limit, created when first taken from and
 * forgotten once full again, so memory grows with current activity, not
 * with history.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  // Tokens taken by attempts still in flight, per key (see `onlyHeld`).
  private readonly held = new Map<string, number>();

  /**
   * @param limit - capacity and refill interval shared by every bucket
   * @param now - the clock in milliseconds
   * @param maxKeys - buckets kept at most; past it the least recently used are dropped
   */
  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Milliseconds until `key` has a token: 0 when it has one now.
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

  /** Puts one token back into `key`'s bucket (never above capacity). */
  giveBack(key: string): void {
    const bucket = this.refill(key);
    if (bucket === undefined) return; // already full
    bucket.tokens += 1;
    if (bucket.tokens >= this.limit.capacity) this.buckets.delete(key);
  }

  /**
   * Marks one of `key`'s taken tokens as held by an attempt in flight, or
   * (with `-1`) no longer held.
   *
   * @param key - the bucket's key
   * @param change - `1` when a permit takes the token, `-1` when it is settled
   */
  hold(key: string, change: 1 | -1): void {
    const count = (this.held.get(key) ?? 0) + change;
    if (count <= 0) this.held.delete(key);
    else this.held.set(key, count);
  }

  /**
   * True if `key`'s bucket is empty only because of attempts still in flight:
   * it would have a token if they gave theirs back. Such an attempt is not
   * "too many failures" yet; it is "too many at once".
   *
   * @param key - the bucket's key
   */
  onlyHeld(key: string): boolean {
    const held = this.held.get(key) ?? 0;
    const bucket = this.refill(key);
    return held > 0 && bucket !== undefined && bucket.tokens + held >= 1;
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
    // Never less: a wall clock stepped back (NTP, a restored VM) would
    // otherwise leave the bucket deep below zero, its address locked out.
    bucket.tokens += Math.max(0, now - bucket.updatedAt) / this.limit.refillMs;
    bucket.updatedAt = now;
    if (bucket.tokens >= this.limit.capacity) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }
}

/**
 * The login rate limiter: {@link acquire} a permit before any password work,
 * then settle it with the outcome.
 *
 * @example
 * ```ts
 * const limiter = new LoginRateLimiter({ perUserIp: { capacity: 1, refillMs: 60_000 } });
 * const permit = limiter.acquire('10.0.0.1', 'alice', 'login'); // a token is taken now
 * permit.failed();                                   // wrong password: it stays spent
 * limiter.acquire('10.0.0.1', 'alice', 'login');     // throws ChatError RATE_LIMITED
 * limiter.acquire('10.0.0.2', 'alice', 'login');     // ok: another IP has its own budget
 * ```
 */
export class LoginRateLimiter {
  private readonly perIp: TokenBuckets;
  private readonly perUserIp: TokenBuckets;
  private readonly perUser: TokenBuckets;
  private readonly registrationsPerIp: TokenBuckets;
  private readonly registrations: TokenBuckets;
  private readonly knownIps = new Map<string, string[]>();
  private readonly knownIpsPerUser: number;
  private readonly inFlight = new Set<string>();

  /** @param options - bucket sizes and the clock; defaults in {@link DEFAULT_LOGIN_LIMITS} */
  constructor(options: LoginRateLimitOptions = {}) {
    const now = options.now ?? (() => Date.now());
    const limits = { ...DEFAULT_LOGIN_LIMITS, ...withoutUndefined(options) };
    this.perIp = new TokenBuckets(limits.perIp, now);
    this.perUserIp = new TokenBuckets(limits.perUserIp, now);
    this.perUser = new TokenBuckets(limits.perUser, now);
    this.registrationsPerIp = new TokenBuckets(limits.registrationsPerIp, now);
    this.registrations = new TokenBuckets(limits.registrations, now, 1);
    this.knownIpsPerUser = options.knownIpsPerUser ?? 8;
  }

  /**
   * Takes the tokens for one attempt, all or none, synchronously: call it
   * before any password work, so a refused attempt costs no bcrypt and
   * concurrent attempts cannot all pass.
   *
   * @param ip - the client's address group (see `addressGroup`)
   * @param username - the (validated) username it tries
   * @param kind - `'register'` also takes the registration buckets
   * @returns the permit to settle once the outcome is known
   * @throws ChatError `RATE_LIMITED` (a `RetryAfterError` with the wait) when
   *   a bucket is empty or an attempt for this user from this IP is in flight;
   *   `SERVICE_UNAVAILABLE` (with a retry hint) when a bucket is empty only
   *   because attempts still in flight hold its tokens
   */
  acquire(ip: string, username: string, kind: AttemptKind = 'login'): LoginPermit {
    const userIp = pair(username, ip);
    if (this.inFlight.has(userIp)) {
      throw new ChatError(
        'RATE_LIMITED',
        'another attempt for this user from this address is still being checked',
      );
    }
    const known = this.isKnownIp(username, ip);
    const taken: [TokenBuckets, string][] = [
      [this.perIp, ip],
      [this.perUserIp, userIp],
    ];
    if (!known) taken.push([this.perUser, username]);
    if (kind === 'register') {
      taken.push([this.registrationsPerIp, ip], [this.registrations, '']);
    }
    const empty = taken.filter(([buckets, key]) => buckets.waitMs(key) > 0);
    if (empty.some(([buckets, key]) => !buckets.onlyHeld(key))) {
      const wait = Math.max(...empty.map(([buckets, key]) => buckets.waitMs(key)));
      const what = kind === 'register' ? 'registrations' : 'failed logins';
      throw new RetryAfterError(
        'RATE_LIMITED',
        `too many ${what}; try again ${inWords(wait)}`,
        wait,
      );
    }
    if (empty.length > 0) {
      // Empty only because of attempts still being checked (fifty people
      // behind one NAT logging in at once): busy, not limited. Once those
      // settle, successes give their tokens back and failures do not.
      throw new RetryAfterError(
        'SERVICE_UNAVAILABLE',
        `many logins from your address are being checked; try again ${inWords(BUSY_RETRY_MS)}`,
        BUSY_RETRY_MS,
      );
    }
    for (const [buckets, key] of taken) {
      buckets.take(key);
      buckets.hold(key, 1);
    }
    this.inFlight.add(userIp);

    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      this.inFlight.delete(userIp);
      for (const [buckets, key] of taken) buckets.hold(key, -1);
      outcome();
    };
    const giveBack = (buckets: readonly TokenBuckets[]) => {
      for (const [b, key] of taken) if (buckets.includes(b)) b.giveBack(key);
    };
    return {
      failed: () => settle(() => {}),
      cancelled: () => settle(() => giveBack(taken.map(([b]) => b))),
      succeeded: () =>
        settle(() => {
          giveBack([this.perIp, this.perUser]);
          this.perUserIp.reset(userIp);
          this.remember(username, ip);
        }),
    };
  }

  /** Attempts being checked right now (for tests and metrics). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private remember(username: string, ip: string): void {
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

function withoutUndefined(options: LoginRateLimitOptions): Partial<LoginLimits> {
  const limits: Partial<Record<keyof LoginLimits, BucketLimit>> = {};
  for (const name of Object.keys(DEFAULT_LOGIN_LIMITS) as (keyof LoginLimits)[]) {
    const limit = options[name];
    if (limit !== undefined) limits[name] = limit;
  }
  return limits;
}
