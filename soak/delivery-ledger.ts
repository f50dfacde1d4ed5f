/**
 * The delivery ledger: what every sender sent, what every receiver got, and
 * the rule that says which deliveries were owed.
 *
 * Every chat message the soak sends carries its sender session's id and a
 * sequence number (1, 2, 3… per connection). The ledger stamps each send and
 * each login with a tick of one logical clock: the soak runs in one process,
 * so "R's login was confirmed before S wrote m" is a plain comparison of two
 * ticks, true whatever the machine's speed.
 *
 * **The rule.** A receiver session R *owes* message m from sender session S
 * (S ≠ R) when R's login was confirmed before S wrote m, and either
 *
 * 1. R received a later message from S (the server relays one connection's
 *    frames in order, to everyone in the room at that moment, so it relayed
 *    m to R first), or
 * 2. R stayed connected until the end of the run (after the drain), and m is
 *    *certain*: S ended cleanly (still connected, `end()`ed, or closed by the
 *    server after reading it all), or someone received m or a later message
 *    from S (so the server processed m). A message written just before an
 *    abrupt `destroy()` may never reach the server; it is owed to nobody.
 *
 * Why it is sound: the server joins R to the room *before* it sends R's
 * `welcome`, and m reaches the server only after S wrote it, so R is in the
 * room when the server relays m. Everything else (messages sent before R's
 * login, or after R left) may or may not arrive, but when it does it must
 * still arrive once, in order, from a sender that really sent it.
 *
 * Checked per (receiver, sender) pair, strictly increasing sequence numbers
 * mean "exactly once, in the sender's order"; a skipped owed number is a loss.
 *
 * @module
 */

/** The kinds of delivery failure the ledger finds. */
export type DeliveryProblem =
  | 'duplicate or out of order'
  | 'lost (a later message arrived)'
  | 'lost (owed at the end)'
  | 'never sent'
  | 'unknown sender';

interface SenderSession {
  /** Tick of each send: `sentAt[seq]` (index 0 unused). */
  readonly sentAt: number[];
  /** How the session ended; `open` while it is connected. */
  end: 'open' | 'clean' | 'abrupt';
  /** Highest sequence number anyone received. */
  maxSeen: number;
}

interface ReceiverSession {
  /** Tick at which its login (or stage 4 welcome) was confirmed. */
  readonly joinedAt: number;
  /** Sender id → last sequence number received from it. */
  readonly last: Map<string, number>;
}

/** The outcome of {@link DeliveryLedger.verify}. */
export interface DeliveryVerdict {
  /** Messages written by all senders. */
  sent: number;
  /** Chat messages received, all receivers together. */
  received: number;
  /** Deliveries checked by the end-of-run rule (owed to receivers present at the end). */
  owedAtEnd: number;
  /** Problem kind → how many. Empty when every delivery was right. */
  problems: Map<DeliveryProblem, number>;
  /** A few concrete problems, for the report. */
  examples: string[];
}

/** Records sends and receipts and checks them against the rule above. */
export class DeliveryLedger {
  private clock = 0;
  private readonly senders = new Map<string, SenderSession>();
  private readonly receivers = new Map<string, ReceiverSession>();
  private readonly problems = new Map<DeliveryProblem, number>();
  private readonly examples: string[] = [];
  private sent = 0;
  private received = 0;

  /** Messages written so far, all senders together. */
  get sentCount(): number {
    return this.sent;
  }

  /**
   * A connection's login was confirmed: from now on it is owed messages.
   *
   * @param id - the connection's session id (the same id it sends under)
   */
  joined(id: string): void {
    this.receivers.set(id, { joinedAt: ++this.clock, last: new Map() });
    this.senders.set(id, { sentAt: [0], end: 'open', maxSeen: 0 });
  }

  /**
   * The session is about to write its next message.
   *
   * @param id - the sender's session id
   * @returns the sequence number to put in the message
   */
  nextSend(id: string): number {
    const sender = this.senders.get(id);
    if (!sender) throw new Error(`ledger: ${id} sends before joining`);
    sender.sentAt.push(++this.clock);
    this.sent++;
    return sender.sentAt.length - 1;
  }

  /**
   * The session's connection is over.
   *
   * @param id - the session id
   * @param clean - the server read everything it wrote (`end()`, or the server
   *   closed it after reading); false after an abrupt `destroy()`
   */
  ended(id: string, clean: boolean): void {
    const sender = this.senders.get(id);
    if (sender && sender.end === 'open') sender.end = clean ? 'clean' : 'abrupt';
  }

  /**
   * A receiver got a chat message.
   *
   * @param receiverId - who got it
   * @param senderId - the session id inside the message
   * @param seq - the sequence number inside the message
   */
  receipt(receiverId: string, senderId: string, seq: number): void {
    this.received++;
    const receiver = this.receivers.get(receiverId);
    const sender = this.senders.get(senderId);
    if (!receiver || !sender) {
      this.problem('unknown sender', `${receiverId} got ${senderId} message ${seq}`);
      return;
    }
    if (!Number.isInteger(seq) || seq < 1 || seq >= sender.sentAt.length) {
      this.problem('never sent', `${receiverId} got ${senderId} message ${seq}`);
      return;
    }
    const last = receiver.last.get(senderId) ?? 0;
    if (seq <= last) {
      this.problem(
        'duplicate or out of order',
        `${receiverId} got ${senderId} message ${seq} after ${last}`,
      );
      return;
    }
    for (let k = last + 1; k < seq; k++) {
      if (sender.sentAt[k]! > receiver.joinedAt) {
        this.problem(
          'lost (a later message arrived)',
          `${receiverId} missed ${senderId} message ${k}`,
        );
      }
    }
    receiver.last.set(senderId, seq);
    if (seq > sender.maxSeen) sender.maxSeen = seq;
  }

  /**
   * Applies the end-of-run rule and returns the verdict. Call it after the
   * drain, when everything the server relayed has arrived.
   *
   * @param presentAtEnd - the receiver sessions still connected after the drain
   */
  verify(presentAtEnd: Iterable<string>): DeliveryVerdict {
    // The end-of-run findings go into copies: verify() can be called again.
    const problems = new Map(this.problems);
    const examples = [...this.examples];
    let owedAtEnd = 0;
    for (const receiverId of presentAtEnd) {
      const receiver = this.receivers.get(receiverId);
      if (!receiver) continue;
      for (const [senderId, sender] of this.senders) {
        if (senderId === receiverId) continue;
        const certain = sender.end === 'abrupt' ? sender.maxSeen : sender.sentAt.length - 1;
        const last = receiver.last.get(senderId) ?? 0;
        for (let k = 1; k <= certain; k++) {
          if (sender.sentAt[k]! <= receiver.joinedAt) continue;
          owedAtEnd++;
          if (k > last) {
            record(
              problems,
              examples,
              'lost (owed at the end)',
              `${receiverId} never got ${senderId} message ${k}`,
            );
          }
        }
      }
    }
    return { sent: this.sent, received: this.received, owedAtEnd, problems, examples };
  }

  private problem(kind: DeliveryProblem, example: string): void {
    record(this.problems, this.examples, kind, example);
  }
}

function record(
  problems: Map<DeliveryProblem, number>,
  examples: string[],
  kind: DeliveryProblem,
  example: string,
): void {
  problems.set(kind, (problems.get(kind) ?? 0) + 1);
  if (examples.length < 5) examples.push(`${kind}: ${example}`);
}
