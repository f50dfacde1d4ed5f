// Stage 6: write a token bucket, the rate limit under every login.
//
//   npm run exercise -- stage6/bucket     checks this file, on a fake clock
//
// A bucket holds up to `capacity` tokens and starts full. Each attempt takes
// one; an empty bucket says no. Time puts tokens back, one every `refillMs`
// milliseconds, so a burst of `capacity` attempts is allowed at once and after
// that one attempt per `refillMs` on average. Stage 6 keeps thousands of
// them (one per address, per user, per user and address), so a bucket must
// cost nothing while nobody uses it: no timer, no interval.
//
// The task: write the class below.
// 1. take() returns true and removes one token if there is at least one
//    whole token; otherwise it returns false and changes NOTHING (a refused
//    attempt must not push the bucket below zero, or a client that keeps
//    hammering would never get a token back).
// 2. Refill lazily: whenever the bucket is looked at (take, giveBack,
//    waitMs), add what the time since the last look has earned,
//    (now - then) / refillMs tokens. Keep the fraction: a look every
//    quarter of refillMs must still earn a token after four looks.
// 3. Never above capacity: a bucket left alone for a day holds `capacity`,
//    not a day's worth.
// 4. giveBack() puts one token back (a permit returned), never above capacity.
// 5. waitMs() is 0 if a token is there now, otherwise the milliseconds until
//    one will be, rounded up: what a "try again in N s" answer says.
// 6. Time comes only from the clock passed in (`now`), never from Date.now()
//    or a timer: the checks move that clock by hand, and so do the course's
//    tests (with jest's fake timers).
//
// The course's version is TokenBuckets in shared/src/rate-limit.ts (many
// buckets in one Map): read it when you are done. The reference solution is
// exercises/solutions/stage6/bucket.patch: try first.

/** Size and refill rate of a bucket. */
export interface BucketLimit {
  /** Tokens in a full bucket: how many attempts a burst may make. */
  capacity: number;
  /** Milliseconds to earn one token back. */
  refillMs: number;
}

/** One token bucket, refilled lazily from an injected clock. */
export class TokenBucket {
  /**
   * @param limit - capacity and refill interval
   * @param now - the clock in milliseconds (tests pass a fake one)
   */
  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token: true, or false (and nothing changes) if there is no whole token. */
  take(): boolean {
    throw new Error('take is not written yet');
  }

  /** Puts one token back, never above capacity. */
  giveBack(): void {
    throw new Error('giveBack is not written yet');
  }

  /** Milliseconds until a token is there: 0 if one is there now. */
  waitMs(): number {
    throw new Error('waitMs is not written yet');
  }
}
