/**
 * The cluster's clock: Redis's, as this node sees it.
 *
 * Envelopes carry the time they were sent, so that a node can refuse an old
 * one replayed to it (see `bus-envelope.ts`). Whose time? Not each node's
 * own: two machines' clocks disagree, by seconds or, without NTP, by
 * minutes. Every node talks to one Redis, so Redis's clock is the one they
 * can share, as the presence scripts already use it (`TIME`) for expiry.
 *
 * A node asks Redis for the time when it joins and on every heartbeat, and
 * keeps the difference from its own clock; between two asks it reads its own
 * clock plus that difference. The answer is off by at most half the round
 * trip, and by whatever the two clocks drift between heartbeats: a few
 * milliseconds, where the check it serves allows a minute.
 *
 * @module
 */
import type { Redis } from 'ioredis';

/** Redis's clock, read through this node's own and the last measured offset. */
export class RedisClock {
  private offsetMs = 0;

  /** Milliseconds since the epoch, by Redis's clock (this node's own before the first {@link sync}). */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * Asks Redis for the time (`TIME`) and keeps the offset from this node's
   * clock, taking the middle of the round trip as the moment Redis answered.
   *
   * @param redis - a connection to the cluster's Redis
   */
  async sync(redis: Redis): Promise<void> {
    const before = Date.now();
    const [seconds, micros] = await redis.time();
    const after = Date.now();
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    this.offsetMs = Math.round(redisMs - (before + after) / 2);
  }
}
