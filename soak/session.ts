/**
 * One connection as the soak drives it, whatever the stage: it sends chat
 * messages that carry its session id and a sequence number, sends bad input
 * when told to, and checks everything it receives.
 *
 * The stage's adapter (stage4.ts, stage6.ts) does the protocol: it turns a
 * message text into bytes on the wire and every line the server sends into a
 * {@link Heard}. The checks are the same for both stages: a chat message's
 * session id must belong to the sender the server named (stage 4's `IP:PORT`
 * label, stage 6's username), its delivery goes into the ledger, and an error
 * reply must be the next one this session expects, in order.
 *
 * ```text
 * the text of every soak message:  soak churner-3#2 17 pppp…
 * ```
 *
 * @module
 */
import type net from 'node:net';
import type { ChatErrorCode } from '../shared/src/errors';
import type { BadFrame } from './bad-frames';
import { Condition } from './condition';
import type { DeliveryLedger } from './delivery-ledger';
import type { Tally } from './tally';

/** What every session of one run shares. */
export interface World {
  /** Sends and receipts. */
  ledger: DeliveryLedger;
  /** Counters and problems. */
  tally: Tally;
  /** Session id → the name the server gives its sender (label or username). */
  labels: Map<string, string>;
  /** Boxes sent tampered or under a forged name: receivers must fail to open exactly these. */
  tampered: Set<string>;
  /** Padding in each chat message (so the traffic is not trivially small). */
  padding: string;
}

/** What one line from the server means, in the soak's terms (the adapter decides). */
export type Heard =
  /** The server admitted the session under this sender name. */
  | { type: 'welcome'; label: string }
  /** A chat message from `from`, as plain text (opened, for a sealed stage). */
  | { type: 'chat'; from: string; text: string }
  /** A box from `from` that did not open under the room key. */
  | { type: 'unopenable'; from: string; box: string }
  | { type: 'error'; code: string }
  /** A joined/left notice; `left` names who left. */
  | { type: 'presence'; online: number; left?: string }
  /** The server is shutting down. */
  | { type: 'bye' }
  | { type: 'undecodable'; code: string }
  /** Anything else: a problem. */
  | { type: 'unexpected'; what: string };

const SOAK_TEXT = /^soak (\S+) (\d+)( fence)? /;

/** A connection driven by the soak. */
export class Session {
  /** The server's name for it (label or username), once admitted. */
  label = '';
  /** Notified on every line and on close. */
  readonly changed = new Condition();
  /** Session ids whose fence message arrived here. */
  readonly fences = new Set<string>();
  /** Sender name → `left` notices seen here (the observer role). */
  readonly lefts = new Map<string, number>();
  /** The `online` count of the last joined/left notice (-1: none yet). */
  online = -1;
  /** True once the socket closed. */
  closed = false;
  /** True once the server said it is shutting down. */
  sawBye = false;
  private readonly expectedErrors: ChatErrorCode[] = [];
  private vanished = false;

  /**
   * Starts watching the connection; the adapter then feeds it with {@link hear}.
   *
   * @param world - what sessions share
   * @param id - `name#n`: the id its messages carry, unique per connection
   * @param socket - the connection
   * @param encodeChat - the stage's wire form of one chat message
   */
  constructor(
    private readonly world: World,
    readonly id: string,
    readonly socket: net.Socket,
    private readonly encodeChat: (text: string) => Buffer,
  ) {
    socket.once('close', () => {
      this.closed = true;
      // 'close' comes after the last 'data': every answer the server sent is in.
      if (this.expectedErrors.length > 0 && !this.vanished) {
        world.tally.problem('error reply missing', `${id} closed before ${this.expectedErrors[0]}`);
      }
      this.changed.notify();
    });
  }

  /** Whether the socket can still be written to. */
  get writable(): boolean {
    return !this.closed && !this.socket.destroyed && !this.socket.writableEnded;
  }

  /** Sends the next chat message (a fence ends the session's stream). */
  sendChat(fence = false): void {
    if (this.writable) this.socket.write(this.chatBytes(fence));
  }

  /**
   * Writes the first half of a chat message and destroys the socket: a client
   * that vanishes mid-message. The ledger marks the session's end abrupt.
   */
  vanishMidFrame(): void {
    if (this.writable) {
      const bytes = this.chatBytes(false);
      this.socket.write(bytes.subarray(0, bytes.length >> 1));
    }
    this.vanished = true;
    this.world.ledger.ended(this.id, false);
    this.socket.destroy();
  }

  /**
   * Sends malformed input and expects the server's error reply for it.
   *
   * @param bad - the bytes and their expected code
   */
  sendBad(bad: BadFrame): void {
    if (!this.writable) return;
    this.expectedErrors.push(bad.code);
    this.world.tally.count(`bad input sent: ${bad.kind}`);
    this.socket.write(bad.bytes);
  }

  /** Ends politely: the server reads everything before it sees the end. */
  end(): void {
    this.world.ledger.ended(this.id, true);
    this.socket.end();
  }

  /** Resolves once the socket has closed. */
  whenClosed(): Promise<void> {
    return this.changed.wait(() => this.closed);
  }

  /**
   * Checks one thing the server sent (called by the adapter, in order).
   *
   * @param heard - what it means
   */
  hear(heard: Heard): void {
    const { tally, ledger } = this.world;
    if (this.label === '' && heard.type !== 'welcome') {
      tally.problem('unexpected from the server', `${this.id} before the welcome: ${heard.type}`);
    } else if (heard.type === 'welcome') {
      this.label = heard.label;
      this.world.labels.set(this.id, heard.label);
      ledger.joined(this.id);
    } else if (heard.type === 'chat') {
      this.receiveChat(heard.from, heard.text);
    } else if (heard.type === 'unopenable') {
      if (this.world.tampered.has(heard.box)) tally.count('tampered boxes rejected by receivers');
      else tally.problem('box failed to open', `${this.id}: a box labelled ${heard.from}`);
    } else if (heard.type === 'error') {
      const expected = this.expectedErrors.shift();
      if (expected === heard.code) tally.count('error replies as expected');
      else {
        const detail = `${this.id} got ${heard.code}, expected ${expected ?? 'none'}`;
        tally.problem('unexpected error reply', detail);
      }
    } else if (heard.type === 'presence') {
      this.online = heard.online;
      if (heard.left !== undefined) {
        this.lefts.set(heard.left, (this.lefts.get(heard.left) ?? 0) + 1);
      }
    } else if (heard.type === 'bye') {
      this.sawBye = true;
    } else if (heard.type === 'undecodable') {
      tally.problem('undecodable from the server', `${this.id}: ${heard.code}`);
    } else {
      tally.problem('unexpected from the server', `${this.id}: ${heard.what}`);
    }
    this.changed.notify();
  }

  private chatBytes(fence: boolean): Buffer {
    const seq = this.world.ledger.nextSend(this.id);
    return this.encodeChat(`soak ${this.id} ${seq}${fence ? ' fence' : ''} ${this.world.padding}`);
  }

  private receiveChat(from: string, text: string): void {
    const { tally, ledger } = this.world;
    const match = SOAK_TEXT.exec(text);
    if (!match) {
      tally.problem('not a soak message', `${this.id} got one from ${from}`);
      return;
    }
    const [, senderId, seq, fence] = match;
    if (this.world.labels.get(senderId!) !== from) {
      tally.problem('sender label mismatch', `${senderId} labelled ${from}`);
    }
    ledger.receipt(this.id, senderId!, Number(seq));
    if (fence) this.fences.add(senderId!);
  }
}
