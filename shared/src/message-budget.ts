/**
 * A logged-in member's message budget: how fast it may make the server work
 * for the room.
 *
 * Introduced by stage 6; stages 7 to 9 use it unchanged. One chat frame
 * costs its sender a line, and the server a write to every other member:
 * a member sending as fast as its link allows makes the server write that
 * much to everyone, and a reader slower than the flood passes its queue
 * cap (`room.ts`) and is cut off. Every other limit leaves this open: the
 * error budget counts only bad frames, and the turn limit only shares the
 * event loop out, it does not slow anyone down.
 *
 * So each member has a token bucket: a burst of `capacity` frames, then
 * one more every `refillMs`. A frame that finds the bucket empty is not
 * refused: the connection stops reading (the socket is paused) until a
 * token is back, and then handles it. TCP does the rest: the sender's
 * kernel buffers fill, and its writes wait. Nothing is lost and no error is
 * sent; a flooder only sees its own messages go out at the budget's pace.
 * IRC servers call this "fake lag" (ergo: a burst of 5, then 2 a second).
 * The default here is larger, a burst of 20 and then 5 a second, so that a
 * pasted block of lines goes out at once and nobody typing ever meets it.
 *
 * @module
 */
import type net from 'node:net';
import type { BucketLimit } from './rate-limit';

/** The default budget: a burst of 20 frames, then one every 200 ms (5 a second). */
export const DEFAULT_MESSAGE_BUDGET: BucketLimit = { capacity: 20, refillMs: 200 };

/** One member's bucket of frames (see the module comment). */
export class MessageBudget {
  private tokens: number;
  private at: number;

  /**
   * @param limit - the bucket's size and refill time
   * @param now - the clock reading it starts full at (milliseconds)
   */
  constructor(
    private readonly limit: BucketLimit,
    now: number,
  ) {
    this.tokens = limit.capacity;
    this.at = now;
  }

  /**
   * Spends one frame's token if there is one.
   *
   * @param now - the clock, in the same unit as the constructor's
   * @returns 0 when the frame may be handled now; otherwise the
   *   milliseconds until a token is back (nothing was spent)
   */
  take(now: number): number {
    const { capacity, refillMs } = this.limit;
    this.tokens = Math.min(capacity, this.tokens + (now - this.at) / refillMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    // Rounded up (so at least 1): a timer that fired early would find no token.
    return Math.ceil((1 - this.tokens) * refillMs);
  }
}

/**
 * How one connection reads its frames: a message budget for the frames
 * after login, and a way to go on with a read later. One copy for stages 6
 * to 9, whose connections stop a read in two cases: after `framesPerTurn`
 * frames (go on at the next turn of the event loop, so others get theirs)
 * and at a frame the budget has no token for (go on once one is back).
 * Either way the socket stays paused meanwhile: no newer read overtakes the
 * waiting frames, and a flooder's own buffers fill instead of our memory.
 */
export class ReadPacer {
  // Made at the first frame that spends: a connection that never logs in needs none.
  private budget: MessageBudget | undefined;
  // How long the frame the budget refused must wait; 0 when none did.
  private waitMs = 0;
  // A `later` call has not gone on yet.
  private waiting = false;

  /** @param limit - the message budget's size and refill time */
  constructor(private readonly limit: BucketLimit) {}

  /**
   * Spends the token of the next frame.
   *
   * @returns 0 when the frame may be handled now; otherwise the
   *   milliseconds until a token is back (the next {@link later} waits them)
   */
  spend(): number {
    const now = performance.now();
    this.waitMs = (this.budget ??= new MessageBudget(this.limit, now)).take(now);
    return this.waitMs;
  }

  /**
   * Pauses `socket` and calls `goOn` at the next turn of the event loop, or,
   * after a frame {@link spend} refused, once its token is back. `goOn`
   * resumes the socket when it carries on.
   *
   * @param socket - the connection's socket
   * @param goOn - carries on with the read (checks first that the connection is still open)
   */
  later(socket: net.Socket, goOn: () => void): void {
    socket.pause();
    const { waitMs } = this;
    this.waitMs = 0;
    this.waiting = true;
    const run = () => {
      this.waiting = false;
      goOn();
    };
    if (waitMs === 0) setImmediate(run);
    else setTimeout(run, waitMs).unref(); // unref: it never keeps a stopped server alive
  }

  /**
   * Whether frames already read are held for later: a {@link later} call
   * has not gone on yet. A connection that closes meanwhile still owes the
   * room those frames (they were sent before the goodbye).
   */
  get holding(): boolean {
    return this.waiting;
  }
}
