/**
 * One stage 4 connection as the soak drives it: plain text lines, no login.
 * The server names each client by its `IP:PORT` (the label in its welcome),
 * so the soak's own session id travels inside the message text and the
 * receiver checks that the label in front of it is that session's label.
 *
 * ```text
 * sent:      soak churner-3#2 17 pppp…
 * received:  127.0.0.1:50312: soak churner-3#2 17 pppp…
 * ```
 *
 * @module
 */
import net from 'node:net';
import type { ChatErrorCode } from '../shared/src/errors';
import { LineDecoder } from '../shared/src/framing';
import type { BadFrame } from './bad-frames';
import { Condition } from './condition';
import type { DeliveryLedger } from './delivery-ledger';
import type { Tally } from './tally';

/** What every stage 4 session shares. */
export interface Stage4World {
  /** Sends and receipts. */
  ledger: DeliveryLedger;
  /** Counters and problems. */
  tally: Tally;
  /** Session id → the label the server gave it. */
  labels: Map<string, string>;
  /** Padding in each chat message. */
  padding: string;
}

// Server lines are a label plus a client's line (at most 4096 bytes).
const MAX_LINE_BYTES = 64 * 1024;
const WELCOME = /^\* welcome, you are (\S+) \((\d+) online\)$/;
const NOTICE = /^\* (\S+) (joined|left) \((\d+) online\)$/;
const ERROR = /^! ([A-Z0-9_]+): /;
const CHAT = /^(\S+): soak (\S+) (\d+)( fence)? /;

/** A connected stage 4 client driven by the soak. */
export class Stage4Session {
  /** The server's name for it (from the welcome), once welcomed. */
  label = '';
  /** Notified on every line and on close. */
  readonly changed = new Condition();
  /** Session ids whose fence arrived here. */
  readonly fences = new Set<string>();
  /** The `online` count of the last joined/left notice (-1: none yet). */
  online = -1;
  /** True once the socket closed. */
  closed = false;
  /** True once the server said it is shutting down. */
  sawBye = false;
  private readonly expectedErrors: ChatErrorCode[] = [];
  private vanished = false;

  private constructor(
    private readonly world: Stage4World,
    /** `name#n`: the id its messages carry. */
    readonly id: string,
    /** The connection. */
    readonly socket: net.Socket,
  ) {}

  /**
   * Connects and waits for the welcome line.
   *
   * @param world - what sessions share
   * @param endpoint - the server
   * @param id - the session id its messages will carry
   * @returns the session, in the room and in the ledger
   * @throws Error if the connection closes before the welcome
   */
  static async connect(
    world: Stage4World,
    endpoint: { host: string; port: number },
    id: string,
  ): Promise<Stage4Session> {
    const socket = net.connect(endpoint);
    socket.setNoDelay(true);
    socket.on('error', () => {}); // 'close' follows and is handled
    const session = new Stage4Session(world, id, socket);
    const decoder = new LineDecoder({ maxFrameBytes: MAX_LINE_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (line.ok) session.receive(line.text);
        else world.tally.problem('undecodable line from the server', `${id}: ${line.error.code}`);
      }
      session.changed.notify();
    });
    socket.once('close', () => {
      session.closed = true;
      if (session.expectedErrors.length > 0 && !session.vanished) {
        world.tally.problem(
          'error reply missing',
          `${id} closed before ${session.expectedErrors[0]}`,
        );
      }
      session.changed.notify();
    });
    await session.changed.wait(() => session.label !== '' || session.closed);
    if (session.label === '') throw new Error(`${id}: closed before the welcome`);
    return session;
  }

  /** Whether the socket can still be written to. */
  get writable(): boolean {
    return !this.closed && !this.socket.destroyed && !this.socket.writableEnded;
  }

  /** Sends the next chat message (a fence ends the session's stream). */
  sendChat(fence = false): void {
    if (this.writable) this.socket.write(this.chatLine(fence));
  }

  /** Writes half a chat line and destroys the socket (abrupt end). */
  vanishMidFrame(): void {
    if (this.writable) {
      const line = this.chatLine(false);
      this.socket.write(line.subarray(0, line.length >> 1));
    }
    this.vanished = true;
    this.world.ledger.ended(this.id, false);
    this.socket.destroy();
  }

  /**
   * Sends a malformed line and expects the server's error line for it.
   *
   * @param bad - the line and its expected code
   */
  sendBad(bad: BadFrame): void {
    if (!this.writable) return;
    this.expectedErrors.push(bad.code);
    this.world.tally.count(`bad lines sent: ${bad.kind}`);
    this.socket.write(bad.bytes);
  }

  /** Ends politely. */
  end(): void {
    this.world.ledger.ended(this.id, true);
    this.socket.end();
  }

  /** Resolves once the socket has closed. */
  whenClosed(): Promise<void> {
    return this.changed.wait(() => this.closed);
  }

  private chatLine(fence: boolean): Buffer {
    const seq = this.world.ledger.nextSend(this.id);
    return Buffer.from(`soak ${this.id} ${seq}${fence ? ' fence' : ''} ${this.world.padding}\n`);
  }

  private receive(text: string): void {
    const { tally, ledger } = this.world;
    if (this.label === '') {
      const welcome = WELCOME.exec(text);
      if (!welcome) {
        tally.problem('unexpected line before the welcome', `${this.id}: ${text.slice(0, 60)}`);
        return;
      }
      this.label = welcome[1]!;
      this.world.labels.set(this.id, this.label);
      ledger.joined(this.id);
      return;
    }
    const notice = NOTICE.exec(text);
    if (notice) {
      this.online = Number(notice[3]);
      return;
    }
    if (text === '* server shutting down') {
      this.sawBye = true;
      return;
    }
    const error = ERROR.exec(text);
    if (error) {
      const expected = this.expectedErrors.shift();
      if (expected === error[1]) tally.count('error replies as expected');
      else
        tally.problem(
          'unexpected error line',
          `${this.id} got ${error[1]}, expected ${expected ?? 'none'}`,
        );
      return;
    }
    const chat = CHAT.exec(text);
    if (!chat) {
      tally.problem('unexpected line', `${this.id}: ${text.slice(0, 60)}`);
      return;
    }
    const [, label, senderId, seq, fence] = chat;
    if (this.world.labels.get(senderId!) !== label) {
      tally.problem('sender label mismatch', `${senderId} labelled ${label}`);
    }
    ledger.receipt(this.id, senderId!, Number(seq));
    if (fence) this.fences.add(senderId!);
  }
}
