/**
 * The client half of the login: connect with TLS (the server's key is
 * checked before anything is sent), then log in with a stored ticket, or a
 * password, and wait for `welcome` or an error.
 *
 * **Tickets.** After a password login the server sends a `ticket` frame;
 * it is stored (mode 0600, `ticket-store.ts`) under the server and the
 * username, and the next login sends `resume` with it instead of the
 * password: no bcrypt on the server. A refused ticket (`TICKET_INVALID`:
 * expired, or the server's ticket key changed) is forgotten, and the login
 * goes on with the password on a new connection. The password is asked for
 * only then (`password` is a function), so a resume never prompts.
 *
 * **Busy servers.** `SERVICE_UNAVAILABLE` with a `retryAfterMs` is waited
 * out and tried again (with jitter), as in stage 6; every other refusal is
 * final.
 *
 * Used by the terminal client, the tests and the benchmark.
 *
 * @module
 */
import type tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError, isChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { serverName } from '../../shared/src/known-servers';
import { loginAnswer } from '../../shared/src/login-answer';
import { MAX_FRAME_BYTES, type Decoded, type FrameOf } from '../../shared/src/protocol';
import { inWords, RetryAfterError } from '../../shared/src/retry-after';
import { sanitizeForTerminal } from '../../shared/src/terminal';
import type { TicketStore } from '../../shared/src/ticket-store';
import {
  connectPinned,
  type CaTrust,
  type PinTrust,
  type TlsSessionCache,
} from '../../shared/src/tls-client';
import {
  ALPN_PROTOCOL,
  decodeServerFrame,
  encodeClientFrame,
  PING,
  TICKET,
  type ClientFrame,
  type ServerFrame,
} from './messages';

/** Tries after a busy answer, by default. */
export const DEFAULT_LOGIN_RETRIES = 8;
/** The longest single wait before trying again. */
export const MAX_RETRY_WAIT_MS = 30_000;

/** Every server frame a user may be shown: all but `ping` and `ticket`, handled here. */
export type ShownFrame = Exclude<ServerFrame, FrameOf<typeof PING> | FrameOf<typeof TICKET>>;

const PONG = encodeClientFrame({ type: 'pong' });

/**
 * A socket's decoded frames: read one at a time ({@link next}) during the
 * login, or pushed to a handler ({@link listen}) after it; frames queued in
 * between are delivered first. `ping` is answered at once; `ticket` goes to
 * `onTicket`; neither is delivered.
 */
export class FrameStream {
  private readonly queue: Decoded<ShownFrame>[] = [];
  private waiter: ((frame: Decoded<ShownFrame> | undefined) => void) | undefined;
  private handler: ((frame: Decoded<ShownFrame>) => void) | undefined;
  private ended = false;

  /**
   * @param socket - the connection; this class reads all its data
   * @param onTicket - receives each `ticket` frame's ticket
   */
  constructor(socket: tls.TLSSocket, onTicket: (ticket: string) => void) {
    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const decoded = line.ok ? decodeServerFrame(line.text) : line;
        if (!decoded.ok) this.deliver(decoded);
        else if (decoded.frame.type === 'ping') {
          // Not while something waits to be sent: a server that pings and
          // never reads would pile pongs up in our memory without end
          // (queued bytes tell it we live just as well).
          if (socket.writable && socket.writableLength === 0) socket.write(PONG);
        } else if (decoded.frame.type === 'ticket') onTicket(decoded.frame.ticket);
        else this.deliver({ ok: true, frame: decoded.frame });
      }
    });
    socket.once('close', () => {
      this.ended = true;
      this.waiter?.(undefined);
      this.waiter = undefined;
    });
  }

  /** The next frame, or `undefined` once the socket closed. */
  next(): Promise<Decoded<ShownFrame> | undefined> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /**
   * Hands every frame from now on, queued ones first, to `handler`.
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
  /** How the server is trusted: its pinned key, or a CA. */
  trust: PinTrust | CaTrust;
  /** TLS sessions kept between connections (resumption: a cheaper handshake). */
  sessions?: TlsSessionCache;
  /** The account. */
  username: string;
  /** Gives the password; called only when one is needed (no usable ticket). */
  password: () => Promise<string>;
  /** Create the account instead of logging in (never uses a ticket). */
  register?: boolean;
  /** Where tickets are kept. Absent: no tickets (always the password). */
  tickets?: TicketStore;
  /** Tries after a busy answer. Default {@link DEFAULT_LOGIN_RETRIES}. */
  retries?: number;
  /** Told before each wait, e.g. "server busy: trying again in 1.2 s". */
  onRetry?: (notice: string) => void;
  /** Milliseconds to wait for the answer to a login. Default `LOGIN_ANSWER_TIMEOUT_MS`, 45 s. */
  answerTimeoutMs?: number;
  /** Told when the server's key was pinned on this connection (first contact). */
  onPinned?: (server: string, fingerprint: string) => void;
}

/** A logged-in connection. */
export interface LoggedIn {
  /** The TLS connection, ready for chat frames. */
  socket: tls.TLSSocket;
  /** Frames after `welcome`. */
  frames: FrameStream;
  /** My name, as the server stores it. */
  username: string;
  /** Users online when I arrived, me included. */
  count: number;
  /** Some of them. */
  online: string[];
  /** The server key's fingerprint. */
  fingerprint: string;
  /** How this login proved who I am: a stored ticket, or the password. */
  by: 'ticket' | 'password';
}

/**
 * Connects (TLS, trust checked first) and logs in.
 *
 * @param options - where, how to trust, who
 * @returns the logged-in connection
 * @throws ChatError the trust check's code (`KEY_CHANGED`, `UNKNOWN_SERVER`,
 *   `CERT_INVALID`…), `CONNECT_FAILED`, or the server's refusal
 */
export async function connectAndLogIn(options: LoginOptions): Promise<LoggedIn> {
  const server = serverName(options.host, options.port);
  const owner = options.username;
  const stored = options.register ? undefined : options.tickets?.load(server, owner);
  if (stored !== undefined) {
    try {
      return await withRetries(options, () =>
        attempt(
          options,
          () => Promise.resolve({ type: 'resume', user: options.username, ticket: stored }),
          'ticket',
        ),
      );
    } catch (err) {
      if (!isChatError(err, 'TICKET_INVALID')) throw err;
      options.tickets?.forget(server, owner);
    }
  }
  // Asked once, after the first connection passed its trust check: on a
  // terminal, "trust this server?" comes before the password.
  let password: Promise<string> | undefined;
  const type = options.register ? 'register' : 'login';
  return withRetries(options, () =>
    attempt(
      options,
      async () => ({
        type,
        user: options.username,
        password: await (password ??= options.password()),
      }),
      'password',
    ),
  );
}

async function withRetries(
  options: LoginOptions,
  once: () => Promise<LoggedIn>,
): Promise<LoggedIn> {
  const retries = options.retries ?? DEFAULT_LOGIN_RETRIES;
  for (let tried = 1; ; tried++) {
    try {
      return await once();
    } catch (err) {
      if (!(err instanceof RetryAfterError) || tried > retries) throw err;
      const waitMs = Math.min(
        MAX_RETRY_WAIT_MS,
        Math.round(err.retryAfterMs * (1 + Math.random() / 2)),
      );
      options.onRetry?.(
        `server busy (${err.code}): trying again ${inWords(waitMs)} (${tried + 1} of ${retries + 1})`,
      );
      await sleep(waitMs);
    }
  }
}

async function attempt(
  options: LoginOptions,
  frame: () => Promise<ClientFrame>,
  by: LoggedIn['by'],
): Promise<LoggedIn> {
  const { socket, fingerprint, pinnedNow } = await connectPinned({
    host: options.host,
    port: options.port,
    alpnProtocol: ALPN_PROTOCOL,
    trust: options.trust,
    sessions: options.sessions,
  });
  socket.setNoDelay(true);
  socket.on('error', () => {}); // reported through 'close' and the frames ending
  const server = serverName(options.host, options.port);
  if (pinnedNow) options.onPinned?.(server, fingerprint);
  const frames = new FrameStream(socket, (ticket) => {
    options.tickets?.save(server, options.username, ticket);
  });
  try {
    socket.write(encodeClientFrame(await frame()));
    const decoded = await loginAnswer(frames.next(), server, options.answerTimeoutMs);
    if (decoded === undefined) {
      throw new ChatError('CONNECT_FAILED', 'the server closed the connection during login');
    }
    if (!decoded.ok) throw decoded.error;
    const answer = decoded.frame;
    if (answer.type === 'error') {
      const busy = answer.code === 'SERVICE_UNAVAILABLE' && answer.retryAfterMs !== undefined;
      throw busy
        ? new RetryAfterError(
            answer.code,
            sanitizeForTerminal(answer.message),
            answer.retryAfterMs!,
          )
        : new ChatError(answer.code, sanitizeForTerminal(answer.message));
    }
    if (answer.type !== 'welcome') {
      throw new ChatError('BAD_FRAME', `unexpected "${answer.type}" frame during login`);
    }
    const { user: username, count, online } = answer;
    return { socket, frames, username, count, online, fingerprint, by };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
