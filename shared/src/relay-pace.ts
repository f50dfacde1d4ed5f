/**
 * A client's copy of the server's message budget, kept to answer one
 * question when the user leaves: how long will the server still be relaying
 * what I sent?
 *
 * Introduced by stage 6's client; stages 7 and 8 use it too. The server
 * lets a member's frames through at its budget's pace (`message-budget.ts`:
 * a burst of 20, then 5 a second) and holds the rest, unread, in its socket
 * and in the kernel's buffers. A script that pipes 3,000 lines into the
 * client finishes writing in a moment, but the server needs ten minutes to
 * let them all through; it answers the client's FIN with its own only then.
 * The client has a safety timer for a server that never answers, and that
 * timer must not fire first: once the client's socket is closed, the next
 * byte the server writes to it (anyone's chat) meets a closed port, the
 * kernel answers with a reset, and everything the server had not read yet
 * is gone. So on leaving the client waits as long as the budget needs, then
 * its usual grace period.
 *
 * The arithmetic is a token bucket seen from outside (the "generic cell rate
 * algorithm" of ATM networks): one number, the time at which the bucket
 * would be full again, moved by each frame sent. The clients count what the
 * user sends (not stage 8's key boxes, which the server mostly lets through
 * free). It assumes the server runs the default budget; a server run with a
 * smaller one holds frames longer than the client waits.
 *
 * @module
 */
import type net from 'node:net';
import { DEFAULT_MESSAGE_BUDGET } from './message-budget';
import type { BucketLimit } from './rate-limit';

/** What the server still holds of ours: how many frames, and until when. */
export interface HeldByServer {
  /** Frames the server has not let through yet. */
  frames: number;
  /** Milliseconds until it lets the last one through. */
  ms: number;
}

/** The server's message budget, as a client sending into it sees it. */
export class RelayPace {
  // When the bucket is full again: every frame sent moves it one refill on.
  private fullAt = 0;

  /** @param limit - the budget the server runs (default: the server's default) */
  constructor(private readonly limit: BucketLimit = DEFAULT_MESSAGE_BUDGET) {}

  /**
   * Counts a frame sent.
   *
   * @param now - the clock, in milliseconds (`performance.now()`)
   */
  sent(now = performance.now()): void {
    this.fullAt = Math.max(now, this.fullAt) + this.limit.refillMs;
  }

  /**
   * What the server still holds of the frames sent so far.
   *
   * @param now - the clock, in milliseconds (`performance.now()`)
   */
  held(now = performance.now()): HeldByServer {
    const { capacity, refillMs } = this.limit;
    // The last frame goes through once the bucket has room for it, which is
    // `capacity` refills before it would be full again.
    const ms = Math.max(0, this.fullAt - capacity * refillMs - now);
    return { frames: Math.ceil(ms / refillMs), ms };
  }
}

/**
 * Leaves: ends our side of the connection (what we sent goes out, then a
 * FIN), and closes it by force only if the server has not closed it once it
 * has let our last frame through and `graceMs` more have passed.
 *
 * @param socket - the connection
 * @param pace - the frames this client sent
 * @param graceMs - how long the server gets to close after that
 * @param notice - told, in one line, when the server still holds frames of ours
 */
export function leaveAtPace(
  socket: net.Socket,
  pace: RelayPace,
  graceMs: number,
  notice: (text: string) => void,
): void {
  socket.end();
  const { frames, ms } = pace.held();
  if (frames > 0) {
    const plural = frames === 1 ? 'message goes' : 'messages go';
    notice(
      `your last ${frames} ${plural} out at the server's pace: about ${Math.ceil(ms / 1000)} s`,
    );
  }
  // A delay past 2^31 - 1 ms would fire at once: cap it (at 24 days).
  setTimeout(() => socket.destroy(), Math.min(ms + graceMs, 2 ** 31 - 1)).unref();
}
