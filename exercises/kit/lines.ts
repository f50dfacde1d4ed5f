/**
 * A TCP client for checks: connects, collects the lines it receives, and lets
 * a check wait for them. Its own small line splitter (not the course's
 * framing module), so a check never depends on the code it is judging.
 *
 * @module
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { CheckContext } from './check';

/** The lines a stream (a socket, a client's stdout) has produced, to wait for in order. */
export class Lines {
  /** Every complete line received so far, in order, without its `\n`. */
  readonly lines: string[] = [];
  /** Resolves when the stream has ended (for a socket: the server closed it, or it broke). */
  readonly closed: Promise<void>;
  private cursor = 0;
  private isClosed = false;
  private wake: () => void = () => {};

  /** @param stream - the stream to read from now on */
  constructor(stream: Readable) {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + decoder.write(chunk)).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.map((line) => line.replace(/\r$/, '')));
      this.wake();
    });
    stream.on('error', () => {}); // a reset is just an ending, for a check
    this.closed = new Promise((resolve) => {
      const finish = () => {
        this.isClosed = true;
        this.wake();
        resolve();
      };
      stream.once('end', finish);
      stream.once('close', finish);
    });
  }

  /**
   * The next line not yet consumed.
   *
   * @throws Error if the connection closes first (naming what was received)
   */
  async next(): Promise<string> {
    for (;;) {
      const line = this.lines[this.cursor];
      if (line !== undefined) {
        this.cursor++;
        return line;
      }
      if (this.isClosed) {
        throw new Error(`the stream ended; lines received: ${this.seen()}`);
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * Skips to the first unconsumed line that matches, and consumes it.
   *
   * @throws Error if the connection closes first
   */
  async waitFor(match: RegExp): Promise<string> {
    for (;;) {
      const line = await this.next();
      if (match.test(line)) return line;
    }
  }

  /** The lines received so far, quoted, for error messages. */
  seen(): string {
    return this.lines.length === 0 ? '(none)' : this.lines.map((l) => JSON.stringify(l)).join(', ');
  }
}

/** A connected socket and the lines it has received. */
export class LineSocket extends Lines {
  /** @param socket - a connected socket; it is read from now on */
  constructor(readonly socket: net.Socket) {
    super(socket);
  }

  /** The port of our end: the server sees us as `127.0.0.1:localPort`. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Writes text as is (add the `\n` yourself). */
  send(text: string): void {
    this.socket.write(text);
  }
}

/**
 * Connects to `127.0.0.1:port`; the socket is destroyed after the check.
 *
 * @throws Error with the system's code (e.g. `ECONNREFUSED`) if the connection fails
 */
export async function connectLines(ctx: CheckContext, port: number): Promise<LineSocket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  ctx.defer(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
    socket.once('error', reject);
  });
  return new LineSocket(socket);
}

/**
 * Resolves with the error code a connection attempt fails with, or `null` if
 * it connects (and is then closed at once).
 */
export function tryConnect(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
