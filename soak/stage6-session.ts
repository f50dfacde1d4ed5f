/**
 * One logged-in stage 6 connection as the soak drives it: it sends chat
 * messages that carry its session id and a sequence number, sends bad or
 * tampered frames when told to, and checks every frame it receives.
 *
 * Receiving is where most checks happen: each chat box is opened with the
 * real key and the `from` the server attached (so a box the server altered,
 * or relabelled, fails), the message's session id must belong to that
 * `from`, and the delivery goes into the ledger. An error frame must be the
 * next one this session expects, in order.
 *
 * @module
 */
import type net from 'node:net';
import { openText, sealText } from '../shared/src/crypto';
import type { ChatErrorCode } from '../shared/src/errors';
import type { Decoded } from '../shared/src/protocol';
import type { LoggedIn } from '../stage6-auth/src/client-login';
import {
  chatAssociatedData,
  encodeClientFrame,
  type ServerFrame,
} from '../stage6-auth/src/messages';
import { sealMessage } from '../stage6-auth/src/sealed-messages';
import type { BadFrame } from './bad-frames';
import { Condition } from './condition';
import type { DeliveryLedger } from './delivery-ledger';
import type { Tally } from './tally';

/** What every stage 6 session shares. */
export interface Stage6World {
  /** The room key. */
  key: Buffer;
  /** Sends and receipts. */
  ledger: DeliveryLedger;
  /** Counters and problems. */
  tally: Tally;
  /** Boxes sent tampered or under a forged name: receivers must fail to open exactly these. */
  tampered: Set<string>;
  /** Bytes of padding in each chat message (so the traffic is not trivially small). */
  padding: string;
}

/** A logged-in connection driven by the soak. */
export class Stage6Session {
  /** `username#n`: the id its messages carry; unique per connection. */
  readonly id: string;
  /** The username it logged in as. */
  readonly username: string;
  /** The connection. */
  readonly socket: net.Socket;
  /** Notified on every frame and on close. */
  readonly changed = new Condition();
  /** Session ids whose fence message arrived here. */
  readonly fences = new Set<string>();
  /** Username → `left` notices seen here (the observer role). */
  readonly lefts = new Map<string, number>();
  /** The `online` count of the last `joined`/`left` notice (-1: none yet). */
  online = -1;
  /** True once the socket closed. */
  closed = false;
  /** True once the server said `bye`. */
  sawBye = false;
  private readonly expectedErrors: ChatErrorCode[] = [];
  private vanished = false;

  /**
   * Starts reading: every frame from now on is checked.
   *
   * @param world - what sessions share
   * @param login - the logged-in connection (from connectAndLogIn)
   * @param sessionNo - this user's connection number, for the id
   */
  constructor(
    private readonly world: Stage6World,
    login: LoggedIn,
    sessionNo: number,
  ) {
    this.username = login.username;
    this.id = `${login.username}#${sessionNo}`;
    this.socket = login.socket;
    world.ledger.joined(this.id);
    this.socket.once('close', () => {
      this.closed = true;
      // 'close' comes after the last 'data': every answer the server sent is in.
      if (this.expectedErrors.length > 0 && !this.vanished) {
        world.tally.problem(
          'error reply missing',
          `${this.id} closed before ${this.expectedErrors[0]}`,
        );
      }
      this.changed.notify();
    });
    login.frames.listen((frame) => this.receive(frame));
  }

  /** Whether the socket can still be written to. */
  get writable(): boolean {
    return !this.closed && !this.socket.destroyed && !this.socket.writableEnded;
  }

  /** Sends the next chat message (a fence message ends the session's stream). */
  sendChat(fence = false): void {
    if (!this.writable) return;
    this.socket.write(this.chatFrame(fence));
  }

  /**
   * Writes the first half of a chat frame and destroys the socket: a client
   * that vanishes mid-message. The ledger marks the session's end abrupt.
   */
  vanishMidFrame(): void {
    if (this.writable) {
      const frame = this.chatFrame(false);
      this.socket.write(frame.subarray(0, frame.length >> 1));
    }
    this.vanished = true;
    this.world.ledger.ended(this.id, false);
    this.socket.destroy();
  }

  /**
   * Sends a malformed frame and expects the server's error frame for it.
   *
   * @param bad - the frame and its expected code
   */
  sendBad(bad: BadFrame): void {
    if (!this.writable) return;
    this.expectedErrors.push(bad.code);
    this.world.tally.count(`bad frames sent after login: ${bad.kind}`);
    this.socket.write(bad.bytes);
  }

  /**
   * Sends a box that no receiver may open: one byte of ciphertext flipped, or
   * sealed under another user's name (a forged sender).
   *
   * @param forgeAs - seal as this user instead of flipping a byte
   */
  sendTampered(forgeAs?: string): void {
    if (!this.writable) return;
    const text = `tampered by ${this.id}`;
    let box: string;
    if (forgeAs !== undefined) {
      box = sealText(this.world.key, text, chatAssociatedData(forgeAs));
    } else {
      const bytes = Buffer.from(
        sealText(this.world.key, text, chatAssociatedData(this.username)),
        'base64',
      );
      bytes[bytes.length - 1]! ^= 0x01; // a bit of the authentication tag
      box = bytes.toString('base64');
    }
    this.world.tampered.add(box);
    this.world.tally.count(
      forgeAs !== undefined ? 'forged-sender boxes sent' : 'tampered boxes sent',
    );
    this.socket.write(encodeClientFrame({ type: 'chat', box }));
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

  private chatFrame(fence: boolean): Buffer {
    const seq = this.world.ledger.nextSend(this.id);
    const text = `soak ${this.id} ${seq}${fence ? ' fence' : ''} ${this.world.padding}`;
    return sealMessage(this.world.key, this.username, text);
  }

  private receive(decoded: Decoded<ServerFrame>): void {
    const { tally } = this.world;
    if (!decoded.ok) {
      tally.problem('undecodable frame from the server', `${this.id}: ${decoded.error.code}`);
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'chat':
        this.receiveChat(frame.from, frame.box);
        break;
      case 'error': {
        const expected = this.expectedErrors.shift();
        if (expected === frame.code) tally.count('error replies as expected');
        else
          tally.problem(
            'unexpected error frame',
            `${this.id} got ${frame.code}, expected ${expected ?? 'none'}`,
          );
        break;
      }
      case 'joined':
        this.online = frame.online;
        break;
      case 'left':
        this.online = frame.online;
        this.lefts.set(frame.who, (this.lefts.get(frame.who) ?? 0) + 1);
        break;
      case 'bye':
        this.sawBye = true;
        break;
      default:
        tally.problem('unexpected frame', `${this.id} got "${frame.type}"`);
    }
    this.changed.notify();
  }

  private receiveChat(from: string, box: string): void {
    const { tally, ledger } = this.world;
    let text: string;
    try {
      text = openText(this.world.key, box, chatAssociatedData(from));
    } catch {
      if (this.world.tampered.has(box)) tally.count('tampered boxes rejected by receivers');
      else tally.problem('box failed to open', `${this.id}: a box labelled ${from}`);
      return;
    }
    const match = /^soak (\S+)#(\d+) (\d+)( fence)? /.exec(text);
    if (!match) {
      tally.problem('not a soak message', `${this.id} opened a box from ${from}`);
      return;
    }
    const [, user, sessionNo, seq, fence] = match;
    const senderId = `${user}#${sessionNo}`;
    if (user !== from) tally.problem('sender label mismatch', `${senderId} labelled ${from}`);
    ledger.receipt(this.id, senderId, Number(seq));
    if (fence) this.fences.add(senderId);
  }
}
