import { ChatError, isChatError } from '../src/errors';
import { ClientLeft, LoginRateLimiter, settleDropped, TokenBuckets } from '../src/rate-limit';
import { retryAfterOf } from '../src/retry-after';

// A hand-driven clock: rate limits are about time, and tests must not wait for it.
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function refused(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (isChatError(err, 'RATE_LIMITED')) return true;
    throw err;
  }
}

describe('TokenBuckets', () => {
  it('allows a burst of `capacity` failures, then waits one refill interval per failure', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 3, refillMs: 1000 }, c.now);
    for (let i = 0; i < 3; i++) {
      expect(buckets.waitMs('k')).toBe(0);
      buckets.take('k');
    }
    expect(buckets.waitMs('k')).toBe(1000);
    c.advance(400);
    expect(buckets.waitMs('k')).toBe(600);
    c.advance(600);
    expect(buckets.waitMs('k')).toBe(0);
    expect(buckets.waitMs('other')).toBe(0);
  });

  it('a wall clock stepped back costs no tokens: the bucket refills from the new time on', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 2, refillMs: 1000 }, c.now);
    buckets.take('k');
    buckets.take('k');
    c.advance(-60_000); // NTP steps the clock back a minute
    // Before: -60 tokens, and this address waited a minute for its next one.
    expect(buckets.waitMs('k')).toBe(1000);
    c.advance(1_000);
    expect(buckets.waitMs('k')).toBe(0);
  });

  it('forgets buckets that have refilled, so memory follows current activity', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 2, refillMs: 1000 }, c.now);
    buckets.take('a');
    buckets.take('b');
    expect(buckets.size).toBe(2);
    c.advance(1000);
    buckets.waitMs('a');
    buckets.waitMs('b');
    expect(buckets.size).toBe(0);
  });

  it('gives a token back, never beyond a full bucket', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 2, refillMs: 1000 }, c.now);
    buckets.take('k');
    buckets.take('k');
    buckets.giveBack('k');
    expect(buckets.waitMs('k')).toBe(0);
    buckets.giveBack('k');
    buckets.giveBack('k'); // already full: forgotten, not over-filled
    expect(buckets.size).toBe(0);
    buckets.take('k');
    buckets.take('k');
    expect(buckets.waitMs('k')).toBe(1000);
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 1, refillMs: 60_000 }, c.now, 3);
    for (const k of ['a', 'b', 'c', 'd']) buckets.take(k);
    expect(buckets.size).toBe(3);
    expect(buckets.waitMs('a')).toBe(0); // evicted
    expect(buckets.waitMs('d')).toBeGreaterThan(0);
  });
});

describe('LoginRateLimiter', () => {
  const limits = {
    perIp: { capacity: 10, refillMs: 1000 },
    perUserIp: { capacity: 3, refillMs: 5000 },
    perUser: { capacity: 6, refillMs: 2000 },
    registrationsPerIp: { capacity: 2, refillMs: 60_000 },
    registrations: { capacity: 4, refillMs: 10_000 },
  };
  const fail = (limiter: LoginRateLimiter, ip: string, user: string) =>
    limiter.acquire(ip, user).failed();
  const succeed = (limiter: LoginRateLimiter, ip: string, user: string) =>
    limiter.acquire(ip, user).succeeded();
  /** Whether an attempt would be refused (a permit taken to find out is given back). */
  const isRefused = (limiter: LoginRateLimiter, ip: string, user: string, kind?: 'register') =>
    refused(() => limiter.acquire(ip, user, kind).cancelled());

  it('a dropped attempt costs a token when the client left, nothing when the server dropped it', () => {
    const limiter = new LoginRateLimiter({ ...limits, now: clock().now });
    for (let i = 0; i < 3; i++) {
      settleDropped(limiter.acquire('10.0.0.8', 'bob'), new ChatError('LOGIN_TIMEOUT', 'late'));
      settleDropped(limiter.acquire('10.0.0.8', 'bob'), new ChatError('SHUTTING_DOWN', 'bye'));
    }
    expect(isRefused(limiter, '10.0.0.8', 'bob')).toBe(false);
    for (let i = 0; i < 3; i++) settleDropped(limiter.acquire('10.0.0.8', 'bob'), new ClientLeft());
    expect(isRefused(limiter, '10.0.0.8', 'bob')).toBe(true); // as after three wrong guesses
  });

  it('refuses a user+IP pair after its burst, and lets it try again after one refill', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 3; i++) fail(limiter, '10.0.0.9', 'alice');
    expect(isRefused(limiter, '10.0.0.9', 'alice')).toBe(true);
    expect(() => limiter.acquire('10.0.0.9', 'alice')).toThrow(/try again in 5 s/);
    expect(retryAfterOf(catchError(() => limiter.acquire('10.0.0.9', 'alice')))).toBe(5000);
    c.advance(5000);
    expect(isRefused(limiter, '10.0.0.9', 'alice')).toBe(false);
  });

  it('the token is taken by acquire itself: concurrent attempts cannot all pass', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    // Ten users at once from one address: every permit is taken before any is settled.
    const permits = [];
    for (let i = 0; i < 10; i++) permits.push(limiter.acquire('6.6.6.6', `user${i}`));
    // The 11th: refused while they are in flight ("busy": they may yet succeed)...
    expect(catchError(() => limiter.acquire('6.6.6.6', 'user10'))).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    for (const permit of permits) permit.failed();
    // ...and rate-limited once they have failed.
    expect(isRefused(limiter, '6.6.6.6', 'user10')).toBe(true);
  });

  it('one attempt per user and address in flight; the next one waits for the first to settle', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    const first = limiter.acquire('10.0.0.9', 'alice');
    expect(() => limiter.acquire('10.0.0.9', 'alice')).toThrow(/still being checked/);
    expect(isRefused(limiter, '10.0.0.8', 'alice')).toBe(false); // another address
    expect(limiter.inFlightCount).toBe(1);
    first.failed();
    expect(limiter.inFlightCount).toBe(0);
    expect(isRefused(limiter, '10.0.0.9', 'alice')).toBe(false);
  });

  it('a cancelled permit gives every token back; settling twice changes nothing', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 20; i++) {
      const permit = limiter.acquire('10.0.0.9', 'alice', 'register');
      permit.cancelled();
      permit.failed(); // ignored: the permit was already settled
    }
    expect(isRefused(limiter, '10.0.0.9', 'alice', 'register')).toBe(false);
  });

  it("gives the real user's IP its own budget while an attacker's IP is refused", () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 3; i++) fail(limiter, '6.6.6.6', 'alice');
    expect(isRefused(limiter, '6.6.6.6', 'alice')).toBe(true);
    expect(isRefused(limiter, '10.0.0.1', 'alice')).toBe(false);
  });

  it('limits one IP across many usernames', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 10; i++) fail(limiter, '6.6.6.6', `user${i}`);
    expect(isRefused(limiter, '6.6.6.6', 'someone-new')).toBe(true);
    expect(isRefused(limiter, '10.0.0.1', 'someone-new')).toBe(false);
  });

  it('limits a botnet guessing one user, but not from an IP that logged in as that user', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    succeed(limiter, '10.0.0.1', 'alice'); // alice's usual address
    for (let i = 0; i < 6; i++) fail(limiter, `6.6.6.${i}`, 'alice');
    expect(isRefused(limiter, '6.6.6.99', 'alice')).toBe(true);
    expect(isRefused(limiter, '10.0.0.1', 'alice')).toBe(false);
    // The lockout is short: one refill interval after the botnet stops.
    c.advance(2000);
    expect(isRefused(limiter, '6.6.6.99', 'alice')).toBe(false);
  });

  it('forgives typos on success for that user+IP, but never refills the per-IP budget', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 2; i++) fail(limiter, '10.0.0.1', 'alice');
    succeed(limiter, '10.0.0.1', 'alice');
    for (let i = 0; i < 2; i++) fail(limiter, '10.0.0.1', 'alice');
    expect(isRefused(limiter, '10.0.0.1', 'alice')).toBe(false);
    // An attacker logging into their own account between guesses gains nothing per IP.
    for (let i = 0; i < 9; i++) fail(limiter, '6.6.6.6', `victim${i}`);
    succeed(limiter, '6.6.6.6', 'mallory'); // its own token comes back, no more
    expect(isRefused(limiter, '6.6.6.6', 'mallory')).toBe(false);
    fail(limiter, '6.6.6.6', 'victim9');
    expect(isRefused(limiter, '6.6.6.6', 'mallory')).toBe(true);
  });

  it('successful logins cost nothing: many in a row from one address stay allowed', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 100; i++) succeed(limiter, '10.0.0.1', `user${i % 7}`);
    expect(isRefused(limiter, '10.0.0.1', 'user0')).toBe(false);
  });

  it('registrations are limited per address and server-wide, successful or not', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    limiter.acquire('10.0.0.1', 'new1', 'register').succeeded();
    limiter.acquire('10.0.0.1', 'new2', 'register').succeeded();
    expect(() => limiter.acquire('10.0.0.1', 'new3', 'register')).toThrow(/too many registrations/);
    // Logging in is not a registration.
    expect(isRefused(limiter, '10.0.0.1', 'new1')).toBe(false);
    // Other addresses register until the server-wide bucket (4) is empty.
    limiter.acquire('10.0.0.2', 'new3', 'register').succeeded();
    limiter.acquire('10.0.0.3', 'new4', 'register').failed(); // a taken name still counts
    expect(isRefused(limiter, '10.0.0.4', 'new5', 'register')).toBe(true);
    c.advance(10_000);
    expect(isRefused(limiter, '10.0.0.4', 'new5', 'register')).toBe(false);
  });

  it('uses Date.now by default, so jest fake timers drive it', () => {
    jest.useFakeTimers();
    try {
      const limiter = new LoginRateLimiter({ perUserIp: { capacity: 1, refillMs: 30_000 } });
      fail(limiter, '1.2.3.4', 'bob');
      expect(isRefused(limiter, '1.2.3.4', 'bob')).toBe(true);
      jest.advanceTimersByTime(30_000);
      expect(isRefused(limiter, '1.2.3.4', 'bob')).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('tokens held by attempts in flight', () => {
  it('an address whose budget is all in flight is busy, not limited; failures then limit it', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ perIp: { capacity: 3, refillMs: 60_000 }, now: c.now });
    const permits = [0, 1, 2].map((i) => limiter.acquire('10.0.0.1', `user${i}`));
    const busy = catchError(() => limiter.acquire('10.0.0.1', 'user3'));
    expect(busy).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(retryAfterOf(busy)).toBe(1000);
    // The three succeed: their tokens come back, and the fourth gets in.
    for (const permit of permits) permit.succeeded();
    limiter.acquire('10.0.0.1', 'user3').succeeded();
    // Three failures spend the budget for real: now it is RATE_LIMITED.
    for (let i = 0; i < 3; i++) limiter.acquire('10.0.0.1', `user${i}`).failed();
    expect(catchError(() => limiter.acquire('10.0.0.1', 'user3'))).toMatchObject({
      code: 'RATE_LIMITED',
    });
  });
});
