/**
 * One sender's window of messages in flight, in the fan-out scenario.
 *
 * A message is in flight from the moment it is sent until every one of its
 * recipients has received it. The window caps how many may be in flight, so
 * the load never outruns the server: a new message goes out only when an old
 * one has been delivered everywhere.
 *
 * Messages complete in order: each recipient receives one sender's messages
 * in the order they were sent (TCP keeps order, and a chat server relays in
 * order), so message N cannot be everywhere before message N - 1. That is why
 * a ring of counters indexed by `seq % size` is enough, with no map lookups
 * on the hot path.
 *
 * @module
 */

/** Counts, per message in flight, the recipients that have not received it yet. */
export class SendWindow {
  private readonly missing: Int32Array;
  private oldest = 1; // the oldest sequence number still in flight
  private next = 1; // the sequence number the next message will get

  /**
   * @param size - the most messages in flight
   * @param recipients - how many clients receive each message
   */
  constructor(
    readonly size: number,
    private readonly recipients: number,
  ) {
    this.missing = new Int32Array(size);
  }

  /** True if another message may be sent now. */
  get canSend(): boolean {
    return this.next - this.oldest < this.size;
  }

  /** Records a message as sent and returns its sequence number. */
  open(): number {
    const seq = this.next++;
    this.missing[seq % this.size] = this.recipients;
    return seq;
  }

  /**
   * Records one recipient's receipt of message `seq`.
   *
   * @returns true if that completed the oldest message(s), freeing room in the window
   */
  receive(seq: number): boolean {
    if (seq < this.oldest || seq >= this.next) return false; // not in flight: a duplicate or a stranger
    const slot = seq % this.size;
    if (this.missing[slot]! > 0) this.missing[slot] = this.missing[slot]! - 1;
    let freed = false;
    while (this.oldest < this.next && this.missing[this.oldest % this.size] === 0) {
      this.oldest++;
      freed = true;
    }
    return freed;
  }

  /** Receipts still missing over all messages in flight. */
  outstanding(): number {
    let sum = 0;
    for (let seq = this.oldest; seq < this.next; seq++) sum += this.missing[seq % this.size]!;
    return sum;
  }
}
