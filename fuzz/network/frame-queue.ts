/**
 * Reads a socket as the fuzzers need it: every line the server sends,
 * decoded with the stage 6 client's strict decoder, queued until awaited,
 * and the close as an event in the same queue.
 *
 * A line the strict decoder refuses is itself a finding (the server must
 * only ever send valid frames), so it is queued as a violation, not skipped.
 */
import type net from 'node:net';
import { LineDecoder } from '../../shared/src/framing';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import type { FrameStream } from '../../stage6-auth/src/client-login';
import { decodeServerFrame, type ServerFrame } from '../../stage6-auth/src/messages';

/** What arrives: a valid frame, a line that is not one, or the end of the connection. */
export type Arrival =
  { kind: 'frame'; frame: ServerFrame } | { kind: 'invalid'; line: string } | { kind: 'closed' };

/** A queue of what one socket received, in order. */
export class FrameQueue {
  private readonly queue: Arrival[] = [];
  private waiter: ((arrival: Arrival) => void) | undefined;
  private closed = false;

  /**
   * @param socket - a connection to a stage 6 server
   * @param frames - the socket's FrameStream, if a login already made one (it
   *   holds frames that arrived with the `welcome`); otherwise this reads the socket
   */
  constructor(socket: net.Socket, frames?: FrameStream) {
    socket.once('close', () => {
      this.closed = true;
      this.deliver({ kind: 'closed' });
    });
    if (frames !== undefined) {
      frames.listen((decoded) =>
        this.deliver(
          decoded.ok
            ? { kind: 'frame', frame: decoded.frame }
            : { kind: 'invalid', line: `<${decoded.error.code}>` },
        ),
      );
      return;
    }
    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (!line.ok) {
          this.deliver({ kind: 'invalid', line: `<${line.error.code}>` });
          continue;
        }
        const decoded = decodeServerFrame(line.text);
        this.deliver(
          decoded.ok
            ? { kind: 'frame', frame: decoded.frame }
            : { kind: 'invalid', line: line.text },
        );
      }
    });
  }

  /** Whether the socket has closed (the `closed` arrival may still be queued). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The next arrival; after the close, `closed` forever. */
  next(): Promise<Arrival> {
    const queued = this.queue.shift();
    if (queued !== undefined) {
      if (queued.kind === 'closed') this.queue.unshift(queued);
      return Promise.resolve(queued);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next arrival that is not a `joined` or `left` notice (those come and go with other users). */
  nextIgnoringPresence(): Promise<Arrival> {
    return this.nextExcept(['joined', 'left']);
  }

  /**
   * The next arrival that is not a frame of one of these types.
   *
   * @param types - frame types to skip (e.g. chat relays from other members)
   */
  async nextExcept(types: readonly ServerFrame['type'][]): Promise<Arrival> {
    for (;;) {
      const arrival = await this.next();
      if (arrival.kind !== 'frame' || !types.includes(arrival.frame.type)) return arrival;
    }
  }

  private deliver(arrival: Arrival): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      if (arrival.kind === 'closed') this.queue.push(arrival);
      waiter(arrival);
    } else {
      this.queue.push(arrival);
    }
  }
}

/** Describes an arrival for a failure message. */
export function describe(arrival: Arrival): string {
  if (arrival.kind === 'frame') return JSON.stringify(arrival.frame);
  if (arrival.kind === 'invalid')
    return `invalid line ${JSON.stringify(arrival.line.slice(0, 200))}`;
  return 'the connection closed';
}
