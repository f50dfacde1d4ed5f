import { isChatError } from '../src/errors';
import { LoginRateLimiter, TokenBuckets } from '../src/rate-limit';

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
  };

  it('refuses a user+IP pair after its burst, and lets it try again after one refill', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 3; i++) {
      limiter.check('10.0.0.9', 'alice');
      limiter.recordFailure('10.0.0.9', 'alice');
    }
    expect(refused(() => limiter.check('10.0.0.9', 'alice'))).toBe(true);
    expect(() => limiter.check('10.0.0.9', 'alice')).toThrow(/try again in 5 s/);
    c.advance(5000);
    expect(refused(() => limiter.check('10.0.0.9', 'alice'))).toBe(false);
  });

  it("gives the real user's IP its own budget while an attacker's IP is refused", () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 3; i++) limiter.recordFailure('6.6.6.6', 'alice');
    expect(refused(() => limiter.check('6.6.6.6', 'alice'))).toBe(true);
    expect(refused(() => limiter.check('10.0.0.1', 'alice'))).toBe(false);
  });

  it('limits one IP across many usernames', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 10; i++) limiter.recordFailure('6.6.6.6', `user${i}`);
    expect(refused(() => limiter.check('6.6.6.6', 'someone-new'))).toBe(true);
    expect(refused(() => limiter.check('10.0.0.1', 'someone-new'))).toBe(false);
  });

  it('limits a botnet guessing one user, but not from an IP that logged in as that user', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    limiter.recordSuccess('10.0.0.1', 'alice'); // alice's usual address
    for (let i = 0; i < 6; i++) limiter.recordFailure(`6.6.6.${i}`, 'alice');
    expect(refused(() => limiter.check('6.6.6.99', 'alice'))).toBe(true);
    expect(refused(() => limiter.check('10.0.0.1', 'alice'))).toBe(false);
    // The lockout is short: one refill interval after the botnet stops.
    c.advance(2000);
    expect(refused(() => limiter.check('6.6.6.99', 'alice'))).toBe(false);
  });

  it('forgives typos on success for that user+IP, but never refills the per-IP budget', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({ ...limits, now: c.now });
    for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.0.1', 'alice');
    limiter.recordSuccess('10.0.0.1', 'alice');
    expect(refused(() => limiter.check('10.0.0.1', 'alice'))).toBe(false);
    // An attacker logging into their own account between guesses gains nothing per IP.
    for (let i = 0; i < 10; i++) limiter.recordFailure('6.6.6.6', `victim${i}`);
    limiter.recordSuccess('6.6.6.6', 'mallory');
    expect(refused(() => limiter.check('6.6.6.6', 'mallory'))).toBe(true);
  });

  it('uses Date.now by default, so jest fake timers drive it', () => {
    jest.useFakeTimers();
    try {
      const limiter = new LoginRateLimiter({ perUserIp: { capacity: 1, refillMs: 30_000 } });
      limiter.recordFailure('1.2.3.4', 'bob');
      expect(refused(() => limiter.check('1.2.3.4', 'bob'))).toBe(true);
      jest.advanceTimersByTime(30_000);
      expect(refused(() => limiter.check('1.2.3.4', 'bob'))).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
