/**
 * The client half of the login handshake: connect, wait for `hello`, send
 * sealed credentials, and wait for `welcome` or an error; and, when the
 * server only says it is busy, try again by itself. (A password still to
 * be typed is asked for between two connections: see
 * {@link connectAndLogIn}.)
 *
 * The terminal client uses it, and so can a test or a benchmark that needs
 * logged-in connections without a terminal. It returns the socket together
 * with a {@link FrameStream}, because the server's first chat frames may
 * arrive in the same TCP read as the `welcome`: whoever reads after the
 * login must start from the decoder that already holds them.
 *
 * **Trying again.** A server that is only busy answers `SERVICE_UNAVAILABLE`
 * with a `retryAfterMs` (its hashing queue would not answer this login before
 * the deadline, or this address has many logins queued already), or
 * `TOO_MANY_CONNECTIONS` with one (this address has many connections
 * waiting to log in). Then
 * {@link connectAndLogIn} waits and tries again on a new connection, at most
 * {@link DEFAULT_LOGIN_RETRIES} times, and says so through `onRetry`. The
 * server already spreads its hints (each refusal books the next free moment,
 * see `hash-admission.ts`); the client adds "jitter", a random factor between
 * 1 and 1.5, so clients given the same hint do not come back in the same
 * millisecond and meet the same refusal again. Each wait is capped at
 * {@link MAX_RETRY_WAIT_MS}, so a client never hangs on a bad hint. Every other
 * refusal (a wrong password, `RATE_LIMITED`, a database that is down) is
 * final: retrying those in a loop helps nobody.
 *
 * The stream also answers the server's `ping` with `pong` by itself, so an
 * idle but living client is never cut off for silence, and nobody using this
 * module has to remember to.
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sealText } from '../../shared/src/crypto';
import { ChatError, isChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { loginAnswer } from '../../shared/src/login-answer';
import { MAX_FRAME_BYTES, type Decoded } from '../../shared/src/protocol';
import { inWords, RetryAfterError, retryAfterOf } from '../../shared/src/retry-after';
import { sanitizeForTerminal } from '../../shared/src/terminal';
import {
  credentialsAssociatedData,
  decodeServerFrame,
  encodeClientFrame,
  formatCredentials,
  type ShownFrame,
} from './messages';

/** How many times {@link connectAndLogIn} tries again after a busy answer, by default. */
export const DEFAULT_LOGIN_RETRIES = 8;
/** The longest single wait before trying again, whatever the server suggested. */
export const MAX_RETRY_WAIT_MS = 30_000;
/**
 * How long the client waits for the server's `hello`, by default. A stage 6
 * server says it as soon as it accepts; a silence means something else is
 * listening there (a stage 7 server waits for a TLS hello of its own).
 */
export const HELLO_TIMEOUT_MS = 5_000;

const PONG = encodeClientFrame({ type: 'pong' });

/**
 * The decoded frames of one socket, readable either one at a time with
 * {@link FrameStream.next} (during the handshake) or pushed to a handler with
 * {@link FrameStream.listen} (during the chat). Frames that arrived before
 * `listen` are delivered to it first, in order. A `ping` is answered with
 * `pong` at once and not delivered.
 */
export class FrameStream {
  private readonly queue: Decoded<ShownFrame>[] = [];
  private waiter: ((frame: Decoded<ShownFrame> | undefined) => void) | undefined;
  private handler: ((frame: Decoded<ShownFrame>) => void) | undefined;
  private ended = false;

  /** @param socket - the connection to the server; this class reads all its data */
  constructor(socket: net.Socket) {
    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const decoded = line.ok ? decodeServerFrame(line.text) : line;
        if (!decoded.ok) this.deliver(decoded);
        else if (decoded.frame.type !== 'ping') this.deliver({ ok: true, frame: decoded.frame });
        // A pong only when nothing waits to be sent: a server that pings
        // and never reads would otherwise pile pongs up in our memory
        // without end. Bytes still queued tell it we live just as well.
        else if (socket.writable && socket.writableLength === 0) socket.write(PONG);
      }
    });
    socket.once('close', () => {
      this.ended = true;
      this.waiter?.(undefined);
      this.waiter = undefined;
    });
  }

  /** The next frame, or `undefined` once the socket has closed. */
  next(): Promise<Decoded<ShownFrame> | undefined> {
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
  listen(handler: (frame: Decoded<ShownFrame>) => void): void {
    this.handler = handler;
    for (const frame of this.queue.splice(0)) handler(frame);
  }

  private deliver(frame: Decoded<ShownFrame>): void {
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
  /**
   * The password (sent sealed, never in the clear), or a function that asks
   * for it: called once, after a first connection has heard the server's
   * `hello` and closed, so a person types it only when there is a server to
   * take it, and holds no connection open while typing.
   */
  password: string | (() => Promise<string>);
  /** Create the account first (`register`) instead of logging in. */
  register?: boolean;
  /** Times to try again after a busy answer. Default {@link DEFAULT_LOGIN_RETRIES}; 0: never. */
  retries?: number;
  /** Told before each wait, e.g. to print it: "server busy: trying again in 1.2 s (2 of 9)". */
  onRetry?: (notice: string) => void;
  /** Milliseconds to wait for `hello`. Default {@link HELLO_TIMEOUT_MS}. */
  helloTimeoutMs?: number;
  /** Milliseconds to wait for the answer to the login. Default `LOGIN_ANSWER_TIMEOUT_MS`, 45 s. */
  answerTimeoutMs?: number;
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
  /** Connections it took: 1, plus one per busy answer the login waited out. */
  attempts: number;
}

/**
 * Connects and logs in (or registers), trying again after a busy answer.
 *
 * @param options - where, who, and the key; how often to try again
 * @returns the logged-in connection
 * @throws ChatError `CONNECT_FAILED` if the server cannot be reached; the
 *   server's own code (`AUTH_FAILED`, `NAME_TAKEN`, `RATE_LIMITED`...) if it
 *   refused; `SERVICE_UNAVAILABLE` if it was still busy after every retry;
 *   `BAD_FRAME` if it answered something unexpected
 *
 * @example
 * ```ts
 * const alice = await connectAndLogIn({ host, port, key, username: 'alice', password, register: true });
 * alice.frames.listen((frame) => console.log(frame));
 * ```
 */
export async function connectAndLogIn(options: LoginOptions): Promise<LoggedIn> {
  let password = options.password;
  if (typeof password !== 'string') {
    // Asked only once a server has said hello, so nobody types a password
    // for a server that is not there; but not while that connection stays
    // open, or a person typing would hold one of the places the server
    // keeps for connections not yet logged in (32 per address: a class
    // behind one NAT fills them). A first connection hears hello and
    // closes, then the prompt, then the login, on a new connection.
    await withRetries(options, () => sayHello(options));
    password = await password();
  }
  const secret = password;
  let attempts = 0;
  const session = await withRetries(options, () => {
    attempts++;
    return logInOnce(options, secret);
  });
  return { ...session, attempts };
}

// Runs `once`, and again after each busy answer (with its wait), at most
// `options.retries` more times.
async function withRetries<T>(options: LoginOptions, once: () => Promise<T>): Promise<T> {
  const retries = options.retries ?? DEFAULT_LOGIN_RETRIES;
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      const hint = retryAfterOf(err);
      if (hint === undefined || attempt > retries) throw err;
      // Jitter: the hint times 1 to 1.5, so clients told the same time do not
      // come back in the same millisecond.
      const waitMs = Math.min(MAX_RETRY_WAIT_MS, Math.round(hint * (1 + Math.random() / 2)));
      const code = (err as ChatError).code;
      options.onRetry?.(
        `server busy (${code}): trying again ${inWords(waitMs)} (${attempt + 1} of ${retries + 1})`,
      );
      await sleep(waitMs);
    }
  }
}

// A connection that has been greeted: the socket, its frames, and the
// challenge of its hello. Throws what the door said instead, or why
// nothing like a stage 6 server answered.
async function connectGreeted(
  options: LoginOptions,
): Promise<{ socket: net.Socket; frames: FrameStream; challenge: string }> {
  const socket = net.connect({ host: options.host, port: options.port });
  socket.setNoDelay(true);
  socket.on('error', () => {}); // reported through 'close' and the frames ending
  try {
    await once(socket, 'connect');
  } catch (err) {
    const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    const why = refused ? 'connection refused (is the server running?)' : (err as Error).message;
    throw new ChatError(
      'CONNECT_FAILED',
      `cannot connect to ${options.host}:${options.port}: ${why}`,
    );
  }
  const frames = new FrameStream(socket);
  try {
    const hello = await firstFrame(frames, options);
    if (hello.type === 'error') throw refusal(hello); // e.g. TOO_MANY_CONNECTIONS
    if (hello.type !== 'hello') throw unexpected(hello);
    return { socket, frames, challenge: hello.challenge };
  } catch (err) {
    socket.destroy();
    throw isChatError(err) ? err : new ChatError('BAD_FRAME', (err as Error).message);
  }
}

// Is a stage 6 server there, and would it let us in? Hear its hello, then
// go, and wait (a moment at most) for the server's goodbye: by then it has
// let the connection's place go.
async function sayHello(options: LoginOptions): Promise<void> {
  const { socket } = await connectGreeted(options);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // Cleared once closed: a timer left running would keep the process
  // alive for its second after a refused login had been reported.
  const giveUp = setTimeout(() => socket.destroy(), 1000);
  socket.end();
  await closed;
  clearTimeout(giveUp);
}

async function logInOnce(
  options: LoginOptions,
  password: string,
): Promise<Omit<LoggedIn, 'attempts'>> {
  const { socket, frames, challenge } = await connectGreeted(options);
  try {
    const type = options.register ? 'register' : 'login';
    const credentials = formatCredentials(options.username, password, challenge);
    const box = sealText(options.key, credentials, credentialsAssociatedData(type));
    socket.write(encodeClientFrame({ type, box }));
    const where = `${options.host}:${options.port}`;
    const answer = await loginAnswer(expectFrame(frames), where, options.answerTimeoutMs);
    if (answer.type === 'error') throw refusal(answer);
    if (answer.type !== 'welcome') throw unexpected(answer);
    return { socket, frames, username: answer.user, count: answer.count, online: answer.online };
  } catch (err) {
    socket.destroy();
    throw isChatError(err) ? err : new ChatError('BAD_FRAME', (err as Error).message);
  }
}

// Only a busy server's answer is worth trying again: SERVICE_UNAVAILABLE or
// TOO_MANY_CONNECTIONS with a retry hint. (RATE_LIMITED has a hint too, but
// it answers failed guesses; a client that retried it by itself would only
// keep the limit closed.)
function refusal(answer: Extract<ShownFrame, { type: 'error' }>): ChatError {
  const busy = answer.code === 'SERVICE_UNAVAILABLE' || answer.code === 'TOO_MANY_CONNECTIONS';
  return busy && answer.retryAfterMs !== undefined
    ? new RetryAfterError(answer.code, sanitizeForTerminal(answer.message), answer.retryAfterMs)
    : new ChatError(answer.code, sanitizeForTerminal(answer.message));
}

// The server's first frame, or a clear word on what else answered: silence
// (a server of another stage, or no chat server at all) or a close.
async function firstFrame(frames: FrameStream, options: LoginOptions): Promise<ShownFrame> {
  const where = `${options.host}:${options.port}`;
  const ms = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = `no hello from ${where} within ${ms / 1000} s`;
      reject(new ChatError('CONNECT_FAILED', `${why}: is a stage 6 server listening there?`));
    }, ms);
  });
  try {
    return await Promise.race([expectFrame(frames, 'before saying hello'), silence]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectFrame(frames: FrameStream, when = 'during login'): Promise<ShownFrame> {
  const decoded = await frames.next();
  if (decoded === undefined) {
    throw new ChatError('CONNECT_FAILED', `the server closed the connection ${when}`);
  }
  if (!decoded.ok) throw decoded.error;
  return decoded.frame;
}

function unexpected(frame: ShownFrame): ChatError {
  return new ChatError('BAD_FRAME', `unexpected "${frame.type}" frame during login`);
}
