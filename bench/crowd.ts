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
import type { LoadRequest } from './load-control';
import type { LoadClient } from './target';
import { targetNamed } from './targets';

const SYNC_PREFIX = 's ';
// 1,000 simultaneous SYNs would overflow the server's listen backlog and turn into slow retransmits.
const BATCH = 50;

/** Handles one received (non-sync) payload; `receiver` is the client's index. */
export type PayloadHandler = (receiver: number, payload: string, receivedAtUs: number) => void;

/**
 * Opens clients `0` to `count - 1`, {@link BATCH} connection attempts at a
 * time, and stops after the first batch in which one failed.
 *
 * @returns the clients opened, in index order, and the first failure's reason, if any
 */
export async function openBatched(
  count: number,
  open: (index: number) => Promise<LoadClient>,
): Promise<{ clients: LoadClient[]; failure: { reason: unknown } | null }> {
  const clients: LoadClient[] = [];
  for (let first = 0; first < count; first += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - first) }, (_, i) => open(first + i));
    const opened = await Promise.allSettled(batch);
    for (const result of opened) if (result.status === 'fulfilled') clients.push(result.value);
    const failed = opened.find((result) => result.status === 'rejected');
    if (failed) return { clients, failure: failed };
  }
  return { clients, failure: null };
}

/** The load clients of one scenario. */
export class Crowd {
  /** The clients, by index. */
  readonly clients: LoadClient[] = [];
  private readonly heard: Uint8Array;

  private constructor(
    count: number,
    private readonly onPayload: PayloadHandler,
  ) {
    this.heard = new Uint8Array(count);
  }

  /**
   * Opens `count` clients of the request's target, and resolves once the
   * server has them all in its room; `onPayload` gets every chat payload any
   * client receives. Throws the first connection error, after closing every client.
   */
  static async open(
    request: LoadRequest,
    count: number,
    onPayload: PayloadHandler,
  ): Promise<Crowd> {
    const crowd = new Crowd(count, onPayload);
    const target = targetNamed(request.target!);
    const { clients, failure } = await openBatched(count, (index) =>
      target.openClient(
        request.endpoint,
        { onPayload: (payload, receivedAtUs) => crowd.receive(index, payload, receivedAtUs) },
        { files: request.files, index },
      ),
    );
    crowd.clients.push(...clients);
    try {
      if (failure) throw failure.reason;
      await crowd.sync();
    } catch (err) {
      crowd.close();
      throw err;
    }
    return crowd;
  }

  /** Closes every client. */
  close(): void {
    for (const client of this.clients) client.close();
  }

  /** How many clients have closed (a server may disconnect a client it judges too slow). */
  closedCount(): number {
    return this.clients.filter((c) => c.closed).length;
  }

  /**
   * Resolves once every client but client 0 has received a sync message from
   * client 0, which proves the server has all of them in its room.
   */
  private async sync(timeoutMs = 30_000): Promise<void> {
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
