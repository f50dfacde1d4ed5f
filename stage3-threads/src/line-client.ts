/**
 * A minimal line-based TCP client for the stage 3 demo: send a line, await
 * the next line. It frames with the same shared module as the server.
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { encodeFrame, LineDecoder } from '../../shared/src/framing';

/** One connection to a line-based server, read one reply at a time. */
export class LineClient {
  private readonly lines: string[] = [];
  private waiting?: { resolve: (line: string) => void; reject: (err: Error) => void };
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        this.lines.push(frame.ok ? frame.text : `! ${frame.error.code}`);
      }
      this.serve();
    });
    socket.on('error', () => {}); // 'close' follows; the waiter hears about it there
    socket.on('close', () => {
      this.closed = true;
      this.serve();
    });
  }

  /**
   * Connects and resolves once the connection is open.
   *
   * @param port - server port
   * @param host - server address
   */
  static async connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    const socket = net.connect({ port, host });
    await once(socket, 'connect');
    return new LineClient(socket);
  }

  /** Sends one line. @param text - the line, without a newline */
  send(text: string): void {
    this.socket.write(encodeFrame(text));
  }

  /**
   * The next line from the server. One caller at a time.
   *
   * @throws ChatError `SHUTTING_DOWN` if the connection closes first
   */
  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.serve();
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }

  private serve(): void {
    const waiter = this.waiting;
    if (!waiter) return;
    const line = this.lines.shift();
    if (line !== undefined) {
      this.waiting = undefined;
      waiter.resolve(line);
    } else if (this.closed) {
      this.waiting = undefined;
      waiter.reject(new ChatError('SHUTTING_DOWN', 'the server closed the connection'));
    }
  }
}
