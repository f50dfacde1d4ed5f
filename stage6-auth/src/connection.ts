/**
 * One client connection on the stage 6 server, from `hello` to `left`.
 *
 * A connection moves through four phases, and each phase accepts different
 * frames:
 *
 * ```text
 * handshake ──login/register──▶ authenticating ──ok──▶ chatting ──▶ closed
 *     │  (deadline, bad frame)        │ (any error: error frame, close)
 *     └──────────────▶ closed ◀───────┘
 * ```
 *
 * - **handshake**: only `login` and `register` are accepted; anything else,
 *   or no login before the deadline, ends the connection. An unauthenticated
 *   socket costs us memory and a file descriptor, so it does not get to idle.
 * - **authenticating**: the password is being checked in a worker. The socket
 *   is paused (we read nothing more) until the answer is known, so frames
 *   pipelined behind the login wait their turn and are handled in order.
 * - **chatting**: stage 5's relay, except the server labels each box with the
 *   authenticated username, which the sender also bound into the box's AD.
 *
 * What a logged-in member cannot do to the others (issue 10):
 *
 * - **Make the server work without bound.** Every error reply (a bad frame,
 *   a frame it may not send) takes a token from the connection's error
 *   budget (10, then one more every 6 s, by default); an empty budget is
 *   `TOO_MANY_ERRORS` and the end of the connection. Repeated log lines are
 *   sampled (`log-sampler.ts`), so 150,000 bad frames cannot write 30 MB of
 *   log either.
 * - **Hold the event loop.** One read can carry thousands of frames. At most
 *   `framesPerTurn` of them are handled at once; then the socket is paused
 *   and the rest wait for the next turn of the event loop (`setImmediate`),
 *   so other connections' frames and timers get their turn in between.
 * - **Flood the room.** Every frame after login spends a token of the
 *   connection's message budget (`message-budget.ts`: 20, then 5 a
 *   second); with none left the socket stays paused until one is back. Valid
 *   chat, sent as fast as a link allows, would otherwise be written to every
 *   member as fast, and cut off each reader slower than the flood. A client
 *   that sends its FIN while frames are still held gets ours only once they
 *   have gone out at that pace (its socket allows a half-open connection);
 *   one whose socket closes meanwhile stays in the room without it until
 *   then, unless its user logs in again. Closing is no way round the
 *   budget, and a script that pipes lines in and ends loses none.
 * - **Stay after it is gone.** The session ends (the name is free, the room
 *   is told) the moment the server decides it ends, not when the socket
 *   finally closes; a member that sends nothing for the idle timeout is
 *   pinged and, if still silent, closed with `IDLE_TIMEOUT`.
 *
 * A server with 10,000 users online holds 10,000 of these, and most of them
 * sit idle most of the time, so what one keeps after login is worth counting.
 * It is one object (a class: its methods exist once, where closures would be
 * made again for every connection), its socket, and three small listeners.
 * What only the login needed (the challenge, the deadline timer, the queue of
 * frames that waited behind the login, the child logger) is dropped once the
 * client is in; the logger is made again if the connection has something to
 * say. The benchmark's idle scenario measures what this saves (an earlier
 * version made eleven closures and a child logger per connection): see the
 * bench report for heap per idle user, next to the raw broadcaster's. (Under
 * tsx a closure stored in a `const` costs more than it looks: tsx keeps
 * function names by redefining `name` on each one.)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { canonicalChatBox, ChatRelayWriter } from '../../shared/src/chat-relay';
import type { ConnectionCaps } from '../../shared/src/connection-caps';
import { ChatError } from '../../shared/src/errors';
import { decodeLine, LineDecoder, type SplitLine } from '../../shared/src/framing';
import type { LogSampler } from '../../shared/src/log-sampler';
import { connectionLogger, type Logger } from '../../shared/src/logger';
import { ReadPacer } from '../../shared/src/message-budget';
import { peerLabel } from '../../shared/src/peer-label';
import { endPolitely } from '../../shared/src/polite-close';
import { announcesPresence } from '../../shared/src/presence';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import { ClientLeft, type BucketLimit } from '../../shared/src/rate-limit';
import { retryAfterOf } from '../../shared/src/retry-after';
import type { Room } from '../../shared/src/room';
import { authenticate, logFailure, type AuthServices } from './handshake';
import {
  CHALLENGE_BYTES,
  decodeClientFrame,
  encodeServerFrame,
  listOnline,
  type AuthFrame,
  type ServerFrame,
} from './messages';

/** A connection as the room sees it: its socket and, once logged in, its username. */
export interface Member {
  /** The client's socket. */
  readonly socket: net.Socket;
  /** The authenticated username; empty until login succeeds. */
  username: string;
  /**
   * Ends the session now: the name is free and the room is told, even if
   * the socket takes a while to close. Safe to call more than once.
   */
  endSession(): void;
  /**
   * Called by the idle sweep with its clock: pings a member silent for
   * `pingAfter` ticks, closes one silent for `closeAfter` with `IDLE_TIMEOUT`.
   */
  checkIdle(tick: number, pingAfter: number, closeAfter: number): void;
  /**
   * When its user logs in again (or, for a departing one, at shutdown): a
   * member whose client finished sending, or whose socket closed (see
   * `departing` in {@link ServerState}), while the message budget still held
   * some of its frames drops them and ends its session now. Does nothing
   * to any other member.
   */
  abandonHeld(): void;
}

/** What every connection shares: the room, who is online, the services and the limits. */
export interface ServerState {
  /** Logged-in members (a connection joins only after login). */
  room: Room<Member>;
  /** Every open socket, logged in or not: the server says goodbye to each at shutdown. */
  sockets: Set<net.Socket>;
  /**
   * Members whose socket has closed while the message budget still held
   * frames they sent: each stays in the room until those are paced out.
   */
  departing: Set<Member>;
  /** Username → its one logged-in member: the duplicate-login check. */
  online: Map<string, Member>;
  /** Key, store, hasher and rate limiter. */
  services: AuthServices;
  /** The connection caps: each connection tells them when it logs in and when it closes. */
  caps: ConnectionCaps;
  /** Milliseconds a new connection has to log in. */
  loginTimeoutMs: number;
  /** Error replies a logged-in connection may cause before `TOO_MANY_ERRORS`. */
  errorBudget: BucketLimit;
  /** Frames a logged-in connection may send at once, then at the refill's pace. */
  messageBudget: BucketLimit;
  /** Most frames of one connection handled in one turn of the event loop. */
  framesPerTurn: number;
  /** The idle sweep's clock: how many sweeps have run. */
  tick: number;
  /** Largest room in which `joined` and `left` are sent (see `announcesPresence`). */
  presenceLimit: number;
  /** Set when shutdown begins: a login that completes after it does not join. */
  shuttingDown: boolean;
  /** The server's logger; each connection makes a child with its id. */
  logger: Logger;
  /** Lines anyone can cause at will (bad frames, refusals) go through it. */
  sampler: LogSampler;
  /** Hands out connection ids (1, 2, 3…) for the logs. */
  nextConnectionId: () => number;
}

type Phase = 'handshake' | 'authenticating' | 'chatting' | 'closed';

/** A logged-in connection's error budget: tokens left, and when they were counted. */
interface ErrorBudget {
  tokens: number;
  at: number;
}

/**
 * Takes charge of a freshly accepted socket: sends `hello`, starts the login
 * deadline, and handles every frame until the socket closes.
 *
 * @param socket - the accepted connection (already counted by `state.caps`)
 * @param state - what all connections share
 * @param group - the socket's address group, as the caps counted it
 */
export function serveConnection(socket: net.Socket, state: ServerState, group: string): void {
  // The socket's listeners keep the connection alive; nothing else needs it.
  new Connection(socket, state, group).start();
}

/** One connection: the room's member, and the state machine drawn above. */
class Connection implements Member {
  username = '';
  private phase: Phase = 'handshake';
  private readonly id: number;
  // Made when there is something to log, dropped at login (see `log`).
  private logger: Logger | undefined;
  // Only the handshake needs these; login sets them to undefined.
  private challenge: string | undefined = randomBytes(CHALLENGE_BYTES).toString('base64');
  private deadline: NodeJS.Timeout | undefined;
  private readonly loginBy: number;
  private abort: AbortController | undefined;
  private readonly decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  // Frames that arrived while the password was being checked, in order.
  private backlog: SplitLine[] | undefined;
  // Chat relays completed by one read, sent as ONE broadcast (one write per
  // recipient, not one per frame), as in stage 5.
  private outgoing: Uint8Array[] | undefined;
  // Made at the first chat relayed from its bytes: an idle user never needs it.
  private relay: ChatRelayWriter | undefined;
  // The idle sweep's tick when a byte last arrived.
  private heardAt: number;
  private errors: ErrorBudget | undefined;
  private errorsLogged = 0;
  // The message budget and the turn limit's pauses (made at the first pause or frame after login).
  private pacer: ReadPacer | undefined;
  // The socket closed while frames were held: the session goes on without it
  // until they are paced out (see `onClose`).
  private departing = false;
  // The client has sent its FIN (see `onEnd`).
  private peerEnded = false;

  constructor(
    readonly socket: net.Socket,
    private readonly state: ServerState,
    // The address group the caps counted this connection under.
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
    // A client's FIN does not end our side by itself: the connection answers
    // it once what the client sent has been handled (see onEnd).
    socket.allowHalfOpen = true;
    // The kernel probes a connection that has been quiet for a minute, so a
    // peer that vanished (no FIN, no RST) is noticed even if we never write.
    socket.setKeepAlive(true, 60_000);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug({ event: 'socket_error', code: err.code }, 'socket error');
    });
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (state.sampler.allow('connect')) this.log.info({ event: 'connect' }, 'connected');
    // #region join
    this.send({ type: 'hello', challenge: this.challenge! });
    // A timer, not a timestamp check: a silent client sends nothing to check against.
    this.deadline = setTimeout(
      () =>
        this.refuse(new ChatError('LOGIN_TIMEOUT', `no login within ${state.loginTimeoutMs} ms`)),
      state.loginTimeoutMs,
    );
    // #endregion join
  }

  // A child logger costs a few hundred bytes; a logged-in connection that sits
  // idle logs nothing until it leaves, so it does not keep one meanwhile. The
  // first call (the "connect" line) reads the peer's address while the socket
  // is open; Node keeps it, so later calls find it even after the close.
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

  // An error frame with a stable code, then goodbye: the rule for every
  // failure before login, and for the few after it that end a session.
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
    endPolitely(
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
    const { room, online, presenceLimit } = this.state;
    if (this.username !== '' && online.get(this.username) === this) online.delete(this.username);
    // room.size + 1: the room as it was before this member left.
    if (room.leave(this) && announcesPresence(room.size + 1, presenceLimit)) {
      room.broadcast(encodeServerFrame({ type: 'left', who: this.username, online: room.size }));
    }
  }

  checkIdle(tick: number, pingAfter: number, closeAfter: number): void {
    const silent = tick - this.heardAt;
    if (silent >= closeAfter) {
      this.refuse(new ChatError('IDLE_TIMEOUT', 'no answer from the client for too long'));
    } else if (silent === pingAfter) {
      this.send({ type: 'ping' });
    }
  }

  // The client has finished sending. Its socket allows a half-open
  // connection, so the FIN we send back is our own choice: once everything
  // the client sent has been handled. A login being checked is answered
  // first, and frames held for the budget go out first, at its pace, while
  // the client waits for this FIN (shared/src/relay-pace.ts).
  private onEnd(): void {
    this.peerEnded = true;
    this.log.debug({ event: 'peer_ended' }, 'the client has finished sending');
    this.answerEnd();
  }

  // Our FIN, after the client's, once nothing it sent is still in hand.
  private answerEnd(): void {
    if (!this.peerEnded || this.pacer?.holding || this.phase === 'authenticating') return;
    endPolitely(this.socket);
  }

  private onClose(): void {
    const { sockets, room, shuttingDown } = this.state;
    sockets.delete(this.socket);
    clearTimeout(this.deadline);
    // A member that sent past its budget and then closed (a script piping
    // lines into the client, which sends them and ends) still has frames
    // held for the budget. They were sent before the goodbye, so they go
    // out, at the budget's pace: at once, anyone could skip the budget by
    // closing. Until then the session keeps its name, its place in the room
    // and in the caps.
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
      endPolitely(this.socket);
    }
  }

  // The end of the connection: its place in the caps, its session, its log line.
  private finish(): void {
    const { caps } = this.state;
    this.departing = false;
    this.state.departing.delete(this);
    const preLogin = this.username === '';
    this.phase = 'closed';
    // Who closed it decides what a login still waiting for a worker costs
    // (`settleDropped` in rate-limit.ts).
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
    // Refused, or the server is shutting down (it said `bye` and reads only
    // to see the client close; what a login left unread must not grow): ignore.
    if (this.phase === 'closed' || this.state.shuttingDown) return;
    this.heardAt = this.state.tick;
    // At most a turn's worth of lines at once: one read can hold 65,536.
    this.process(this.decoder.split(chunk, this.state.framesPerTurn), 0);
  }

  // Handles frames in order, from `start`. Once a login starts, the rest wait
  // in the backlog (the socket is paused, but this read may already hold more
  // frames); after `framesPerTurn` frames, or at a frame the message budget
  // has no token for, the rest wait for a later turn.
  private process(frames: SplitLine[], start: number): void {
    const end = Math.min(frames.length, start + this.state.framesPerTurn);
    let i = start;
    for (; i < end; i++) {
      if (this.phase === 'closed') break;
      if (this.phase === 'authenticating') {
        // concat, not push(...rest): one read can hold tens of thousands of
        // frames, more arguments than a function call may take.
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
      this.yieldTurn(this.decoder.moreLines(this.state.framesPerTurn), 0);
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
  private yieldTurn(frames: SplitLine[], next: number): void {
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

  // Stage 5's short cut: once logged in, a chat request exactly as clients
  // write it is relayed from its bytes, after the same checks as the general
  // path's (see shared/src/chat-relay.ts). Any other line takes that path.
  private relayedAsIs(raw: SplitLine): boolean {
    if (this.phase !== 'chatting' || !raw.ok) return false;
    const box = canonicalChatBox(raw.bytes);
    if (box === undefined) return false;
    (this.relay ??= new ChatRelayWriter(this.username)).append((this.outgoing ??= []), box);
    return true;
  }

  private flush(): void {
    const { outgoing } = this;
    if (outgoing === undefined) return;
    this.outgoing = undefined;
    this.state.room.broadcast(Buffer.concat(outgoing), this);
  }

  private handle(raw: SplitLine): void {
    if (this.relayedAsIs(raw)) return; // the usual chat request, from its bytes
    const text = raw.ok ? decodeLine(raw.bytes) : raw;
    const decoded = text.ok ? decodeClientFrame(text.text) : text;
    // #region focus
    if (decoded.ok && this.phase === 'chatting' && decoded.frame.type === 'chat') {
      // The box is relayed unchanged, labelled with the name we authenticated.
      // The sender sealed it with that name in the AD; if it lied, every
      // receiver's open() fails, so the label cannot be forged.
      // #region relay
      const { box } = decoded.frame;
      (this.outgoing ??= []).push(encodeServerFrame({ type: 'chat', from: this.username, box }));
      // #endregion relay
      return;
    }
    // #endregion focus
    // Anything else is answered or acted on at once: let the chat that came
    // before it go out first, so everyone sees this client's frames in order.
    this.flush();
    if (!decoded.ok) {
      // Before login every mistake ends the connection; after it only an
      // oversized frame does (the client ignored the protocol's limit).
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
      if (frame.type === 'login' || frame.type === 'register') void this.logIn(frame);
      else this.refuse(new ChatError('NOT_LOGGED_IN', `log in before sending "${frame.type}"`));
      return;
    }
    if (frame.type === 'who') {
      // A count and a bounded list: a frame naming all 10,000 users would not fit.
      this.send({ type: 'who', ...listOnline(this.state.online) });
    } else if (frame.type !== 'pong') {
      // (A pong needs no answer: that it arrived is the point.)
      this.answerError(new ChatError('BAD_FRAME', 'already logged in on this connection'));
    }
  }

  // A logged-in client's mistake: an error frame, paid for from its error
  // budget; the first few are logged, later ones only counted (a client
  // sending junk non-stop is one story, told by the first lines and the count).
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

  private async logIn(frame: AuthFrame): Promise<void> {
    const { room, online, caps, services } = this.state;
    const action = frame.type;
    this.phase = 'authenticating';
    this.socket.pause(); // read nothing more until we know who this is
    this.log.debug({ event: 'auth_started', action }, 'checking credentials');
    this.abort = new AbortController();
    const result = await authenticate(services, {
      frame,
      challenge: this.challenge!,
      ip: this.group,
      budgetMs: this.loginBy - performance.now(),
      signal: this.abort.signal,
      log: this.log,
    });
    this.abort = undefined;
    if (result.status === 'refused') {
      this.refuse(result.error); // nothing happens if the connection is already closed
      return;
    }
    // The store and the hasher took their time; is anyone still waiting? A
    // "login ok" for a connection that is gone would be a false record. (A
    // dropped job means this connection aborted it, so it is gone too.)
    const gone = this.abandoned();
    if (result.status === 'dropped' || gone !== undefined) {
      // Sampled: anyone can send a login and close, as often as they like.
      if (this.state.sampler.allow(`${action}_abandoned`)) {
        this.log.info(
          { event: `${action}_abandoned`, user: result.user, reason: gone ?? 'closed' },
          `${action} abandoned`,
        );
      }
      // Nobody to welcome, and nothing was claimed. At shutdown the server
      // has already sent this socket its `bye` and is ending it; this
      // connection only has to stay out of the room.
      this.phase = 'closed';
      return;
    }
    // The claim: synchronous, so two logins racing for one account cannot
    // both pass this check.
    const username = result.user;
    // A session whose client has finished sending (or is gone), kept only
    // to relay what the budget still holds, gives way to its user, who is
    // back: those frames are dropped, and a client still waiting for them
    // gets our FIN now.
    online.get(username)?.abandonHeld();
    if (online.has(username)) {
      const error = new ChatError(
        'ALREADY_LOGGED_IN',
        `${username} is already logged in elsewhere`,
      );
      logFailure(services, this.log, action, error, username);
      this.refuse(error);
      return;
    }
    this.username = username;
    online.set(username, this);
    this.log.info({ event: `${action}_ok`, user: username }, `${action} ok`);
    // In: what only the handshake needed can go.
    caps.loggedIn(this.group);
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.challenge = undefined;
    this.logger = undefined;
    this.heardAt = this.state.tick;
    this.phase = 'chatting';
    // #region join
    room.join(this);
    this.send({ type: 'welcome', user: username, ...listOnline(online) });
    // #endregion join
    // Not in a big room: a notice is a write to every member (see PRESENCE_NOTICE_LIMIT).
    if (announcesPresence(room.size, this.state.presenceLimit)) {
      room.broadcast(encodeServerFrame({ type: 'joined', who: username, online: room.size }), this);
    }
    const backlog = this.backlog;
    this.backlog = undefined;
    this.socket.resume();
    this.process(backlog ?? [], 0); // and what the read held after them
  }

  // Why a login that has just been checked would have nobody to welcome.
  // (A method, so TypeScript does not narrow `phase` across an await.)
  private abandoned(): 'closed' | 'shutdown' | undefined {
    if (this.phase === 'closed') return 'closed';
    if (this.state.shuttingDown) return 'shutdown';
    return undefined;
  }
}
