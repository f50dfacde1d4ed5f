/**
 * A crowd of load clients on one server: opened a batch at a time, and
 * synchronised so a scenario starts only when the server has every one of
 * them in its room.
 *
 * Why the synchronisation: a client's `connect` event fires when the kernel
 * finished the TCP handshake, which can be before the server's `accept`
 * callback ran. A message sent then would not reach that client, and a sender
 * waiting for every recipient would wait forever. So the crowd broadcasts a
 * "sync" message until every other client has heard one.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunFiles } from './run-files';
import type { LoadClient, LoadEndpoint, Target } from './target';

const SYNC_PREFIX = 's ';

/** Handles one received (non-sync) payload; `receiver` is the client's index. */
export type PayloadHandler = (receiver: number, payload: string, receivedAtUs: number) => void;

/** The load clients of one scenario. */
export class Crowd {
  /** The clients, by index. */
  readonly clients: LoadClient[] = [];
  private heard = new Uint8Array(0);

  private constructor(private readonly onPayload: PayloadHandler) {}

  /**
   * Opens `count` clients, `batch` connection attempts at a time (1,000
   * simultaneous SYNs would overflow the server's listen backlog and turn
   * into slow retransmits); `onPayload` gets every chat payload any client
   * receives. Throws the first connection error, after closing every client.
   */
  static async open(
    target: Target,
    endpoint: LoadEndpoint,
    count: number,
    onPayload: PayloadHandler,
    files: RunFiles,
    batch = 50,
  ): Promise<Crowd> {
    const crowd = new Crowd(onPayload);
    crowd.heard = new Uint8Array(count);
    try {
      for (let first = 0; first < count; first += batch) {
        const indexes = Array.from({ length: Math.min(batch, count - first) }, (_, i) => first + i);
        const opened = await Promise.allSettled(
          indexes.map((index) =>
            target.openClient(
              endpoint,
              { onPayload: (payload, receivedAtUs) => crowd.receive(index, payload, receivedAtUs) },
              { files, index },
            ),
          ),
        );
        for (const result of opened) {
          if (result.status === 'fulfilled') crowd.clients.push(result.value);
        }
        const failed = opened.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      crowd.close();
      throw err;
    }
    return crowd;
  }

  /**
   * Resolves once every client but client 0 has received a sync message from
   * client 0, which proves the server has all of them in its room.
   */
  async sync(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      this.clients[0]?.send(`${SYNC_PREFIX}${attempt}`);
      for (let waited = 0; waited < 500 && Date.now() < deadline; waited += 10) {
        if (this.missing() === 0) return;
        await sleep(10);
      }
    }
    throw new Error(`${this.missing()} of ${this.clients.length - 1} clients never heard the sync`);
  }

  /** Closes every client. */
  close(): void {
    for (const client of this.clients) client.close();
  }

  /** How many clients have closed (a server may disconnect a client it judges too slow). */
  closedCount(): number {
    return this.clients.filter((c) => c.closed).length;
  }

  private missing(): number {
    let missing = 0;
    for (let i = 1; i < this.clients.length; i++) if (this.heard[i] === 0) missing++;
    return missing;
  }

  private receive(index: number, payload: string, receivedAtUs: number): void {
    if (payload.startsWith(SYNC_PREFIX)) this.heard[index] = 1;
    else this.onPayload(index, payload, receivedAtUs);
  }
}
