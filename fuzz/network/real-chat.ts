/**
 * The real clients of the network fuzz: logged-in users chatting through
 * the real client-side login and sealing code, each sending its next message
 * as soon as every other real client has received its previous one, so the
 * chat keeps flowing for as long as the fuzzers run.
 *
 * Every message must reach every other real client, in order, open with its
 * sender's associated data, and nothing else may disturb them: no error
 * frame, no invalid line, no close. Chat relayed from the logged-in fuzzers
 * is allowed (they are members too) and skipped.
 */
import { openText } from '../../shared/src/crypto';
import { chatAssociatedData } from '../../stage6-auth/src/messages';
import { sealMessage } from '../../stage6-auth/src/sealed-messages';
import { logIn, type TestServer } from '../../testkit/stage6';
import type { LoggedIn } from '../../stage6-auth/src/client-login';
import { FUZZ_PASSWORD } from '../reference/handshake';

interface RealClient {
  name: string;
  session: LoggedIn;
  sent: number;
  /** Sender → how many of its messages arrived (each checked in order on arrival). */
  received: Map<string, number>;
}

/** A group of real clients chatting until told to stop. */
export class RealChat {
  /** What went wrong, in words; empty if nothing did. */
  readonly violations: string[] = [];
  private readonly clients: RealClient[] = [];
  private readonly listeners = new Set<() => void>();
  private stopping = false;
  private loops: Promise<void>[] = [];

  private constructor(private readonly t: TestServer) {}

  /**
   * Registers and logs in `count` real clients (`real0`, `real1`...).
   *
   * @param t - the server
   * @param count - how many
   */
  static async start(t: TestServer, count: number): Promise<RealChat> {
    const chat = new RealChat(t);
    const names = Array.from({ length: count }, (_, i) => `real${i}`);
    for (const name of names) {
      const session = await logIn(t, name, FUZZ_PASSWORD, true);
      const client: RealClient = { name, session, sent: 0, received: new Map() };
      chat.clients.push(client);
      session.frames.listen((decoded) => {
        if (!decoded.ok) return chat.violate(`${name} got an invalid frame: ${decoded.error.code}`);
        const frame = decoded.frame;
        if (frame.type === 'error') return chat.violate(`${name} got ${JSON.stringify(frame)}`);
        if (frame.type !== 'chat' || !names.includes(frame.from)) return; // fuzzers' chat, notices
        let text: string;
        try {
          text = openText(t.key, frame.box, chatAssociatedData(frame.from));
        } catch (err) {
          return chat.violate(
            `${name} could not open a message from ${frame.from}: ${String(err)}`,
          );
        }
        const seen = client.received.get(frame.from) ?? 0;
        if (text !== `${frame.from} #${seen}`) {
          chat.violate(`${name} expected "${frame.from} #${seen}", got "${text}"`);
        }
        client.received.set(frame.from, seen + 1);
        chat.notify();
      });
      session.socket.once('close', () => {
        if (!chat.stopping) chat.violate(`${name}'s connection closed during the fuzz`);
      });
    }
    return chat;
  }

  /** Messages delivered so far (to every recipient counted once per recipient). */
  get delivered(): number {
    let total = 0;
    for (const c of this.clients) for (const n of c.received.values()) total += n;
    return total;
  }

  /** Starts every client's send loop. */
  run(): void {
    this.loops = this.clients.map((c) => this.sendLoop(c));
  }

  /**
   * Stops sending, waits until every message sent has been delivered (or a
   * violation ended the wait), and checks the counts.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.notify();
    await Promise.all(this.loops);
    for (const to of this.clients) {
      for (const from of this.clients) {
        if (from === to) continue;
        const got = to.received.get(from.name) ?? 0;
        if (got !== from.sent)
          this.violate(`${to.name} got ${got} of ${from.sent} from ${from.name}`);
      }
    }
  }

  /** Ends every real client's connection. */
  close(): void {
    this.stopping = true;
    for (const c of this.clients) c.session.socket.destroy();
  }

  /** What each client is waiting for, for a stall report. */
  describeWaits(): string {
    return this.clients
      .map((c) => {
        const behind = this.clients
          .filter((o) => o !== c && (o.received.get(c.name) ?? 0) < c.sent)
          .map((o) => o.name);
        return `${c.name} sent ${c.sent}${behind.length > 0 ? `, not yet at ${behind.join(', ')}` : ''}`;
      })
      .join('; ');
  }

  private async sendLoop(client: RealClient): Promise<void> {
    const others = this.clients.filter((c) => c !== client);
    while (!this.stopping && this.violations.length === 0) {
      client.session.socket.write(
        sealMessage(this.t.key, client.name, `${client.name} #${client.sent}`),
      );
      const k = ++client.sent;
      await this.until(
        () =>
          this.violations.length > 0 ||
          others.every((o) => (o.received.get(client.name) ?? 0) >= k),
      );
    }
  }

  private until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private violate(message: string): void {
    this.violations.push(message);
    this.notify();
  }
}
