/**
 * The inbound queue: between what Redis delivers and what the node handles,
 * a queue that is bounded, and drained a batch per event-loop turn.
 *
 * Two lessons from earlier stages meet here.
 *
 * - **Frames handled per loop turn.** The Redis client parses everything one
 *   socket read holds, and one read can hold thousands of messages. Handling
 *   them all at once would make every local client wait; a batch per turn
 *   (`setImmediate` between batches) lets their reads and writes interleave.
 * - **A bounded queue, like stage 4's slow reader.** If the node handles
 *   messages more slowly than the room produces them, something must give.
 *   Letting the queue grow would end in an out-of-memory crash; not reading
 *   from Redis would move the growth into Redis (its output buffer for this
 *   subscriber), where it threatens every node until Redis's
 *   `client-output-buffer-limit pubsub` cuts us off anyway. So the queue has
 *   a cap in messages and in bytes, and passing it *drops what is queued* and
 *   tells the owner, which treats it as a split: the node reconnects, and its
 *   members are told they missed messages. Everyone else is unaffected.
 *   Until the owner calls `resume()`, whatever else arrives is dropped too
 *   (the rest of the socket read that overflowed the queue).
 *
 * @module
 */

/** Limits of an {@link InboundQueue}. */
export interface InboundQueueLimits {
  /** Most messages queued. Default 10,000. */
  maxMessages?: number;
  /** Most bytes queued. Default 16 MiB. */
  maxBytes?: number;
  /** Most messages handled in one event-loop turn. Default 256. */
  batch?: number;
}

interface Item {
  channel: Buffer;
  message: Buffer;
}

/**
 * A bounded FIFO of (channel, message) pairs, handled in batches.
 *
 * @example
 * ```ts
 * const queue = new InboundQueue(handle, (dropped) => reconnect(dropped), { maxMessages: 10_000 });
 * subscriber.on('messageBuffer', (channel, message) => queue.push(channel, message));
 * ```
 */
export class InboundQueue {
  /** Messages dropped because the queue overflowed, since it was made. */
  dropped = 0;
  private items: Item[] = [];
  private head = 0;
  private bytes = 0;
  private scheduled = false;
  private overflowed = false;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly batch: number;

  /**
   * @param handle - called for each message, in arrival order; it must not throw
   * @param overflow - called once per overflow, after the queue was emptied,
   *   with how many messages were dropped
   * @param limits - the caps and the batch size
   */
  constructor(
    private readonly handle: (channel: Buffer, message: Buffer) => void,
    private readonly overflow: (dropped: number) => void,
    limits: InboundQueueLimits = {},
  ) {
    this.maxMessages = limits.maxMessages ?? 10_000;
    this.maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
    this.batch = limits.batch ?? 256;
  }

  /** Messages waiting to be handled. */
  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Messages the queue still holds, handled ones included: at most twice
   * those waiting, plus a batch (for tests; see `drain`).
   */
  get held(): number {
    return this.items.length;
  }

  /**
   * Queues one message; handling starts on a later turn.
   *
   * @param channel - the channel it came on
   * @param message - its bytes
   */
  push(channel: Buffer, message: Buffer): void {
    // After an overflow the rest of what is already read is dropped too,
    // until the owner has started again (resume()).
    if (this.overflowed) {
      this.dropped++;
      return;
    }
    this.items.push({ channel, message });
    this.bytes += message.length;
    if (this.length > this.maxMessages || this.bytes > this.maxBytes) {
      const dropped = this.length;
      this.clear();
      this.dropped += dropped;
      this.overflowed = true;
      this.overflow(dropped);
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Accepts messages again after an overflow (the owner reconnected). */
  resume(): void {
    this.overflowed = false;
  }

  /** Drops everything queued (the node is closing, or reconnecting). */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }

  private drain(): void {
    this.scheduled = false;
    // A head index instead of shift(): shift() moves every remaining item.
    // The length is re-read each time: a handler may clear() the queue.
    for (let n = 0; n < this.batch && this.head < this.items.length; n++) {
      const item = this.items[this.head++]!;
      this.bytes -= item.message.length;
      this.handle(item.channel, item.message);
    }
    if (this.head === this.items.length) {
      this.clear();
      return;
    }
    // Handled messages stay in the array until they are cut off. Waiting for
    // it to empty is not enough: a busy node whose arrivals per turn hover
    // around a batch never empties it, and would keep every message it ever
    // handled. Cutting them off once they are the larger half costs one move
    // of the rest, so each message is moved about once.
    if (this.head >= this.items.length - this.head) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }
}
