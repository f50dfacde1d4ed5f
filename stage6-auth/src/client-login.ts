/**
 * The client half of the login handshake: connect, wait for `hello`, send
 * sealed credentials, and wait for `welcome` or an error.
 *
 * The terminal client uses it, and so can a test or a benchmark that needs
 * logged-in connections without a terminal. It returns the socket together
 * with a {@link FrameStream}, because the server's first chat frames may
 * arrive in the same TCP read as the `welcome`: whoever reads after the
 * login must start from the decoder that already holds them.
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import { sealText } from '../../shared/src/crypto';
import { ChatError, isChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { MAX_FRAME_BYTES, type Decoded } from '../../shared/src/protocol';
import {
  credentialsAssociatedData,
  decodeServerFrame,
  encodeClientFrame,
  formatCredentials,
  type ServerFrame,
} from './messages';

/**
 * The decoded frames of one socket, readable either one at a time with
 * {@link FrameStream.next} (during the handshake) or pushed to a handler with
 * {@link FrameStream.listen} (during the chat). Frames that arrived before
 * `listen` are delivered to it first, in order.
 */
export class FrameStream {
  private readonly queue: Decoded<ServerFrame>[] = [];
  private waiter: ((frame: Decoded<ServerFrame> | undefined) => void) | undefined;
  private handler: ((frame: Decoded<ServerFrame>) => void) | undefined;
  private ended = false;

  /** @param socket - the connection to the server; this class reads all its data */
  constructor(socket: net.Socket) {
    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        this.deliver(line.ok ? decodeServerFrame(line.text) : line);
      }
    });
    socket.once('close', () => {
      this.ended = true;
      this.waiter?.(undefined);
      this.waiter = undefined;
    });
  }

  /** The next frame, or `undefined` once the socket has closed. */
  next(): Promise<Decoded<ServerFrame> | undefined> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /**
   * Hands every frame from now on (starting with any already queued) to `handler`.
   *
   * @param handler - called once per frame, in order
   */
  listen(handler: (frame: Decoded<ServerFrame>) => void): void {
    this.handler = handler;
    for (const frame of this.queue.splice(0)) handler(frame);
  }

  private deliver(frame: Decoded<ServerFrame>): void {
    if (this.handler) this.handler(frame);
    else if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(frame);
    } else this.queue.push(frame);
  }
}

/** Options for {@link connectAndLogIn}. */
export interface LoginOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** The room key: it seals the credentials. */
  key: Uint8Array;
  /** The account name. */
  username: string;
  /** The password (sent sealed, never in the clear). */
  password: string;
  /** Create the account first (`register`) instead of logging in. */
  register?: boolean;
}

/** A logged-in connection. */
export interface LoggedIn {
  /** The connection, ready for chat frames. */
  socket: net.Socket;
  /** Frames from the server after `welcome` (call `listen`). */
  frames: FrameStream;
  /** My username, as the server knows it. */
  username: string;
  /** How many users were online when I arrived, me included. */
  count: number;
  /** Some of them (at most the protocol's `MAX_LISTED_USERS`), longest online first. */
  online: string[];
}

/**
 * Connects and logs in (or registers).
 *
 * @param options - where, who, and the key
 * @returns the logged-in connection
 * @throws ChatError `CONNECT_FAILED` if the server cannot be reached; the
 *   server's own code (`AUTH_FAILED`, `NAME_TAKEN`, `RATE_LIMITED`...) if it
 *   refused; `BAD_FRAME` if it answered something unexpected
 *
 * @example
 * ```ts
 * const alice = await connectAndLogIn({ host, port, key, username: 'alice', password, register: true });
 * alice.frames.listen((frame) => console.log(frame));
 * ```
 */
export async function connectAndLogIn(options: LoginOptions): Promise<LoggedIn> {
  const socket = net.connect({ host: options.host, port: options.port });
  socket.setNoDelay(true);
  socket.on('error', () => {}); // reported through 'close' and the frames ending
  try {
    await once(socket, 'connect');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ChatError(
      'CONNECT_FAILED',
      `cannot connect to ${options.host}:${options.port} (${reason})`,
    );
  }
  const frames = new FrameStream(socket);
  try {
    const hello = await expectFrame(frames);
    if (hello.type !== 'hello') throw unexpected(hello);
    const type = options.register ? 'register' : 'login';
    const credentials = formatCredentials(options.username, options.password, hello.challenge);
    const box = sealText(options.key, credentials, credentialsAssociatedData(type));
    socket.write(encodeClientFrame({ type, box }));
    const answer = await expectFrame(frames);
    if (answer.type === 'error') throw new ChatError(answer.code, answer.message);
    if (answer.type !== 'welcome') throw unexpected(answer);
    return { socket, frames, username: answer.user, count: answer.count, online: answer.online };
  } catch (err) {
    socket.destroy();
    throw isChatError(err) ? err : new ChatError('BAD_FRAME', (err as Error).message);
  }
}

async function expectFrame(frames: FrameStream): Promise<ServerFrame> {
  const decoded = await frames.next();
  if (decoded === undefined) {
    throw new ChatError('CONNECT_FAILED', 'the server closed the connection during login');
  }
  if (!decoded.ok) throw decoded.error;
  return decoded.frame;
}

function unexpected(frame: ServerFrame): ChatError {
  return new ChatError('BAD_FRAME', `unexpected "${frame.type}" frame during login`);
}
