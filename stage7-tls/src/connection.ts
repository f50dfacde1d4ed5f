/**
 * One client connection on the stage 7 server, from the first frame after
 * the TLS handshake to `left`.
 *
 * ```text
 * (TLS handshake, in server.ts)
 * handshake ──login/register/resume──▶ authenticating ──ok──▶ chatting ──▶ closed
 *     │  (deadline, bad frame)               │ (any error: error frame, close)
 *     └──────────────────▶ closed ◀──────────┘
 * ```
 *
 * The same machine as stage 6, with the same defences (a login deadline,
 * the socket paused while a password is checked, an error budget and a
 * message budget after login, at most `framesPerTurn` frames per turn of
 * the event loop, the session ended the moment the server decides). What
 * changed:
 *
 * - The socket is a `TLSSocket`: the frames it reads were decrypted by
 *   TLS, and what it writes is encrypted, once per recipient.
 * - A chat frame carries text, which the server relabels with the
 *   authenticated name and relays. The server *can* read it now; it never
 *   logs it.
 * - After a password login the connection sends a `ticket`; a `resume`
 *   frame logs in with one, without bcrypt.
 *
 * @module
 */
import type net from 'node:net';
import type { ConnectionCaps } from '../../shared/src/connection-caps';
import { ChatError } from '../../shared/src/errors';
import { LineDecoder, type DecodedFrame } from '../../shared/src/framing';
import type { LogSampler } from '../../shared/src/log-sampler';
import { connectionLogger, type Logger } from '../../shared/src/logger';
import { ReadPacer } from '../../shared/src/message-budget';
import { peerLabel } from '../../shared/src/peer-label';
import { MAX_FRAME_BYTES, relayTooLarge } from '../../shared/src/protocol';
import { ClientLeft, type BucketLimit } from '../../shared/src/rate-limit';
import { retryAfterOf } from '../../shared/src/retry-after';
import type { Room } from '../../shared/src/room';
import { logIn, type LoginServices } from './login';
import {
  decodeClientFrame,
  encodeServerFrame,
  listOnline,
  type LoginFrame,
  type ServerFrame,
} from './messages';
import type { PresenceNotices } from '../../shared/src/presence-notices';

/** A connection as the room sees it. */
export interface Member {
  /** The client's (TLS) socket. */
  readonly socket: net.Socket;
  /** The authenticated username; empty until login. */
  username: string;
  /** Ends the session now (name freed, room told). Safe to call twice. */
  endSession(): void;
  /** The idle sweep: ping after `pingAfter` silent ticks, close after `closeAfter`. */
  checkIdle(tick: number, pingAfter: number, closeAfter: number): void;
  /**
   * A new login of its user (or, for a departing one, a shutdown) ends the
   * session of a member whose client sent its FIN or vanished while frames
   * were held (stage 6): they are dropped.
   */
  abandonHeld(): void;
}

/** What every connection shares. */
export interface ServerState {
  /** Logged-in members. */
  room: Room<Member>;
  /** Every open socket, logged in or not (for the goodbye at shutdown). */
  sockets: Set<net.Socket>;
  /** Members whose socket closed while the message budget held their frames (stage 6). */
  departing: Set<Member>;
  /** Username → its one logged-in member. */
  online: Map<string, Member>;
  /** Store, hasher, limiter, tickets. */
  services: LoginServices;
  /** Connection caps, told at login and close. */
  caps: ConnectionCaps;
  /** Milliseconds a new connection has to log in. */
  loginTimeoutMs: number;
  /** Error replies a logged-in connection may cause. */
  errorBudget: BucketLimit;
  /** Frames a logged-in connection may send at once, then at the refill's pace. */
  messageBudget: BucketLimit;
  /** Frames of one connection handled per turn of the event loop. */
  framesPerTurn: number;
  /** The idle sweep's clock. */
  tick: number;
  /** The `joined`/`left` notices, batched during bursts. */
  presence: PresenceNotices<Member>;
  /** Set when shutdown begins. */
  shuttingDown: boolean;
  /** The server's logger. */
  logger: Logger;
  /** Sampled logging for what anyone can cause at will. */
  sampler: LogSampler;
  /** Hands out connection ids for the logs. */
  nextConnectionId: () => number;
  /** Ends a socket after a last frame, politely. */
  endPolitely: (socket: net.Socket, lastFrame?: Buffer) => void;
}

type Phase = 'handshake' | 'authenticating' | 'chatting' | 'closed';

/**
 * Takes charge of a socket whose TLS handshake has completed.
 *
 * @param socket - the TLS socket (already counted by `state.caps`)
 * @param state - what all connections share
 * @param group - the address group the caps counted it under
 */
export function serveConnection(socket: net.Socket, state: ServerState, group: string): void {
  new Connection(socket, state, group).start();
}

class Connection implements Member {
  username = '';
  private phase: Phase = 'handshake';
  private readonly id: number;
  private logger: Logger | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly loginBy: number;
  private abort: AbortController | undefined;
  private readonly decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  private backlog: DecodedFrame[] | undefined;
  // Chat relays from one read, sent as one broadcast (one TLS record per
  // recipient, not one per message: each record costs a MAC and a header).
  private outgoing: Buffer[] | undefined;
  private heardAt: number;
  private errors: { tokens: number; at: number } | undefined;
  private errorsLogged = 0;
  // The message budget and the turn limit's pauses (made at the first pause or frame after login).
  private pacer: ReadPacer | undefined;
  // The socket closed while frames were held: the session goes on without
  // it until they are paced out (stage 6's `onClose`).
  private departing = false;
  // The client has sent its FIN (stage 6's `onEnd`).
  private peerEnded = false;

  constructor(
    readonly socket: net.Socket,
    private readonly state: ServerState,
    private readonly group: string,
  ) {
    this.id = state.nextConnectionId();
    this.heardAt = state.tick;
    this.loginBy = performance.now() + state.loginTimeoutMs;
  }

  start(): void {
    const { socket, state } = this;
    state.sockets.add(socket);
    socket.setNoDelay(true);
    // Our FIN answers the client's once what it sent is handled (stage 6's
    // onEnd). Set here, not on the server: a socket still in the door
    // (no handshake yet) closes on a FIN as before.
    socket.allowHalfOpen = true;
    socket.setKeepAlive(true, 60_000);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug({ event: 'socket_error', code: err.code }, 'socket error');
    });
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (state.sampler.allow('connect')) this.log.info({ event: 'connect' }, 'connected');
    this.deadline = setTimeout(
      () =>
        this.refuse(new ChatError('LOGIN_TIMEOUT', `no login within ${state.loginTimeoutMs} ms`)),
      state.loginTimeoutMs,
    );
  }

  private get log(): Logger {
    if (this.logger === undefined) {
      const { socket } = this;
      const remote = peerLabel(socket.remoteAddress, socket.remotePort);
      this.logger = connectionLogger(this.state.logger, this.id, remote);
    }
    return this.logger;
  }

  private send(frame: ServerFrame): void {
    this.state.room.send(this, encodeServerFrame(frame));
  }

  private refuse(error: ChatError): void {
    if (this.phase === 'closed') return;
    const anonymous = this.phase !== 'chatting';
    this.phase = 'closed';
    this.abort?.abort(error);
    this.endSession();
    if (!anonymous || this.state.sampler.allow(`refused:${error.code}`)) {
      this.log.info({ event: 'refused', code: error.code }, `closing: ${error.code}`);
    }
    const retryAfterMs = retryAfterOf(error);
    this.state.endPolitely(
      this.socket,
      encodeServerFrame({
        type: 'error',
        code: error.code,
        message: error.message,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }),
    );
    if (this.departing) this.finish(); // its socket is gone already
  }

  endSession(): void {
    const { room, online, presence } = this.state;
    if (this.username !== '' && online.get(this.username) === this) online.delete(this.username);
    if (room.leave(this)) presence.left(this);
  }

  checkIdle(tick: number, pingAfter: number, closeAfter: number): void {
    const silent = tick - this.heardAt;
    if (silent >= closeAfter) {
      this.refuse(new ChatError('IDLE_TIMEOUT', 'no answer from the client for too long'));
    } else if (silent === pingAfter) {
      this.send({ type: 'ping' });
    }
  }

  // The client has finished sending; our FIN waits for what is still in hand.
  private onEnd(): void {
    this.peerEnded = true;
    this.log.debug({ event: 'peer_ended' }, 'the client has finished sending');
    this.answerEnd();
  }

  // Our FIN, after the client's, once nothing it sent is still in hand (stage 6).
  private answerEnd(): void {
    if (!this.peerEnded || this.pacer?.holding || this.phase === 'authenticating') return;
    this.state.endPolitely(this.socket);
  }

  private onClose(): void {
    const { sockets, room, shuttingDown } = this.state;
    sockets.delete(this.socket);
    clearTimeout(this.deadline);
    // Frames it sent before closing and the budget still holds go out at
    // the budget's pace; the session stays until then (stage 6's onClose).
    if (this.phase === 'chatting' && this.pacer?.holding && room.has(this) && !shuttingDown) {
      this.departing = true;
      this.state.departing.add(this);
      return;
    }
    this.finish();
  }

  abandonHeld(): void {
    if (this.departing) this.finish();
    else if (this.peerEnded && this.phase === 'chatting') {
      // Its client sent its FIN and waits for what is held: it gets ours now.
      this.phase = 'closed';
      this.endSession();
      this.state.endPolitely(this.socket);
    }
  }

  // The end of the connection: its place in the caps, its session, its log line.
  private finish(): void {
    const { caps } = this.state;
    this.departing = false;
    this.state.departing.delete(this);
    const preLogin = this.username === '';
    this.phase = 'closed';
    // Who closed it decides what a login still waiting for a worker costs (stage 6).
    this.abort?.abort(
      this.state.shuttingDown
        ? new ChatError('SHUTTING_DOWN', 'the server is shutting down')
        : new ClientLeft(),
    );
    caps.closed(this.group, preLogin);
    this.endSession();
    if (!preLogin || this.state.sampler.allow('disconnect')) {
      this.log.info({ event: 'disconnect', user: this.username || undefined }, 'disconnected');
    }
  }

  private onData(chunk: Buffer): void {
    // Closed, or the server is shutting down (it said `bye` and reads only to
    // see the client close; what a login left unread must not grow): ignore.
    if (this.phase === 'closed' || this.state.shuttingDown) return;
    this.heardAt = this.state.tick;
    // At most a turn's worth of lines at once: one read can hold 65,536.
    this.process(this.decoder.push(chunk, this.state.framesPerTurn), 0);
  }

  // Frames in order, from `start`: at most `framesPerTurn` now; the rest wait
  // for a later turn, as does a frame the message budget has no token for.
  private process(frames: DecodedFrame[], start: number): void {
    const end = Math.min(frames.length, start + this.state.framesPerTurn);
    let i = start;
    for (; i < end; i++) {
      if (this.phase === 'closed') break;
      if (this.phase === 'authenticating') {
        this.backlog = (this.backlog ?? []).concat(frames.slice(i));
        i = frames.length;
        break;
      }
      if (this.phase === 'chatting' && !this.spend()) break;
      this.handle(frames[i]!);
    }
    this.flush();
    if (i < frames.length && this.phase !== 'closed') this.yieldTurn(frames, i);
    else if (this.decoder.hasUnread && this.phase !== 'closed' && this.phase !== 'authenticating') {
      // The rest of the read: its next lines at the next turn.
      this.yieldTurn(this.decoder.more(this.state.framesPerTurn), 0);
    } else if (this.departing) {
      this.finish(); // the last held frame has gone out
    } else {
      this.answerEnd(); // if the client has said goodbye, ours
    }
  }

  // The message budget's token for the next frame; false when none is left.
  private spend(): boolean {
    const waitMs = this.pacing().spend();
    if (waitMs > 0 && this.state.sampler.allow('throttled')) {
      this.log.info({ event: 'throttled', waitMs }, 'over the message budget: reading paused');
    }
    return waitMs === 0;
  }

  // Goes on with the same read later: at the next turn, or once the budget
  // has a token again (ReadPacer). The socket stays paused meanwhile.
  private yieldTurn(frames: DecodedFrame[], next: number): void {
    this.pacing().later(this.socket, () => {
      if (this.phase === 'closed') return;
      this.heardAt = this.state.tick; // held back, not silent: no idle timeout
      // resume() only schedules the next read, so a yield inside this
      // process() call (which pauses again) still comes first.
      this.socket.resume();
      this.process(frames, next);
    });
  }

  private pacing(): ReadPacer {
    return (this.pacer ??= new ReadPacer(this.state.messageBudget));
  }

  private flush(): void {
    const { outgoing } = this;
    if (outgoing === undefined) return;
    this.outgoing = undefined;
    this.state.presence.sendPending();
    const bytes = outgoing.length === 1 ? outgoing[0]! : Buffer.concat(outgoing);
    this.state.room.broadcast(bytes, this);
  }

  private handle(raw: DecodedFrame): void {
    const decoded = raw.ok ? decodeClientFrame(raw.text) : raw;
    if (decoded.ok && this.phase === 'chatting' && decoded.frame.type === 'chat') {
      // The label is the name this connection logged in as: the client
      // cannot choose it. The text itself is never logged.
      const { text } = decoded.frame;
      const relay = encodeServerFrame({ type: 'chat', from: this.username, text });
      const tooLarge = relayTooLarge(relay); // labelled, it may outgrow a reader's limit
      if (tooLarge === undefined) return void (this.outgoing ??= []).push(relay);
      this.flush();
      return this.answerError(tooLarge);
    }
    this.flush();
    if (!decoded.ok) {
      if (this.phase === 'handshake' || decoded.error.code === 'FRAME_TOO_LARGE') {
        if (this.state.sampler.allow('bad_frame')) {
          this.log.info({ event: 'bad_frame', code: decoded.error.code }, 'bad frame');
        }
        this.refuse(decoded.error);
      } else {
        this.answerError(decoded.error);
      }
      return;
    }
    const frame = decoded.frame;
    if (this.phase === 'handshake') {
      if (frame.type === 'login' || frame.type === 'register' || frame.type === 'resume') {
        void this.authenticate(frame);
      } else {
        this.refuse(new ChatError('NOT_LOGGED_IN', `log in before sending "${frame.type}"`));
      }
      return;
    }
    if (frame.type === 'who') this.send({ type: 'who', ...listOnline(this.state.online) });
    else if (frame.type !== 'pong') {
      this.answerError(new ChatError('BAD_FRAME', 'already logged in on this connection'));
    }
  }

  private answerError(error: ChatError): void {
    const { capacity, refillMs } = this.state.errorBudget;
    const now = performance.now();
    const budget = (this.errors ??= { tokens: capacity, at: now });
    budget.tokens = Math.min(capacity, budget.tokens + (now - budget.at) / refillMs);
    budget.at = now;
    if (budget.tokens < 1) {
      this.log.warn({ event: 'too_many_errors', errors: this.errorsLogged }, 'too many errors');
      this.refuse(new ChatError('TOO_MANY_ERRORS', `more than ${capacity} bad frames too quickly`));
      return;
    }
    budget.tokens -= 1;
    this.errorsLogged++;
    if (this.errorsLogged <= 3 && this.state.sampler.allow('bad_frame')) {
      this.log.info({ event: 'bad_frame', code: error.code }, 'bad frame');
    }
    this.send({ type: 'error', code: error.code, message: error.message });
  }

  private async authenticate(frame: LoginFrame): Promise<void> {
    const { room, online, caps, services } = this.state;
    this.phase = 'authenticating';
    this.socket.pause();
    this.abort = new AbortController();
    let username: string | undefined;
    try {
      username = await logIn(services, {
        frame,
        ip: this.group,
        budgetMs: this.loginBy - performance.now(),
        signal: this.abort.signal,
        log: this.log,
        claim: (name) => {
          online.get(name)?.abandonHeld(); // a departing session gives way (stage 6)
          if (online.has(name)) return false;
          this.username = name;
          online.set(name, this);
          return true;
        },
        abandoned: () => this.abandoned(),
      });
    } catch (err) {
      this.refuse(
        err instanceof ChatError ? err : new ChatError('SERVICE_UNAVAILABLE', 'login failed'),
      );
      return;
    } finally {
      this.abort = undefined;
    }
    if (username === undefined) {
      this.phase = 'closed';
      return;
    }
    caps.loggedIn(this.group);
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.logger = undefined;
    this.heardAt = this.state.tick;
    this.phase = 'chatting';
    room.join(this);
    this.send({ type: 'welcome', user: username, ...listOnline(online) });
    // A ticket after a password only: a resume does not extend itself, so a
    // stolen ticket dies at its expiry however often it is used.
    if (frame.type !== 'resume') {
      const issued = services.tickets.issue(username);
      this.send({ type: 'ticket', ticket: issued.ticket, expires: issued.expiresAt.toISOString() });
    }
    this.state.presence.joined(this);
    const backlog = this.backlog;
    this.backlog = undefined;
    this.socket.resume();
    this.process(backlog ?? [], 0); // and what the read held after them
  }

  private abandoned(): 'closed' | 'shutdown' | undefined {
    if (this.phase === 'closed') return 'closed';
    if (this.state.shuttingDown) return 'shutdown';
    return undefined;
  }
}
