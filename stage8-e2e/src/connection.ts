/**
 * One client connection on the stage 8 server, from the first frame after
 * the TLS handshake to `left`.
 *
 * ```text
 * (TLS handshake, in server.ts)
 * handshake ──login/register/resume──▶ authenticating ──ok──▶ chatting ──▶ closed
 *     │  (deadline, bad frame)               │ (any error: error frame, close)
 *     └──────────────────▶ closed ◀──────────┘
 * ```
 *
 * Stage 7's machine and defences, unchanged. What changed is what the
 * server does with a logged-in member's frames; it reads none of them:
 *
 * - `e2e-chat` is stamped with the sender's name and relayed to every other
 *   member unopened (batched per read, as stage 7 batched chat).
 * - `sender-key` goes to its `to` only. One addressed to someone who is no
 *   longer in the room is dropped without a word: the sender is about to
 *   hear `left` and rotate, and an error would only race that notice.
 *   The first one to each member after a membership change costs no token
 *   of the message budget (key-box-allowance.ts).
 * - Membership carries keys: after `welcome`, one `member` frame per member
 *   already online; to everyone else, `joined` with the newcomer's keys.
 *   Sent in rooms of every size (stage 7 stopped above 1,000): a member who
 *   is not told cannot encrypt to the newcomer, or rotate after a leave.
 * - `keys` looks a user's newest stored keys up (for `/verify` of someone
 *   offline), one look-up in flight per connection.
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
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import { ClientLeft, type BucketLimit } from '../../shared/src/rate-limit';
import { retryAfterOf } from '../../shared/src/retry-after';
import type { Room } from '../../shared/src/room';
import { encodeKeyBundle, type KeyBundleWire } from '../../shared/src/identity-keys';
import { relayCanonicalChat, relayPrefix } from './chat-relay';
import { KeyBoxAllowance, keyBoxRecipient } from './key-box-allowance';
import { logIn, type LoginServices } from './login';
import {
  decodeClientFrame,
  encodeServerFrame,
  listOnline,
  type ClientFrame,
  type LoginFrame,
  type ServerFrame,
} from './messages';

/** A connection as the room sees it. */
export interface Member {
  /** The client's (TLS) socket. */
  readonly socket: net.Socket;
  /** The authenticated username; empty until login. */
  username: string;
  /** Its public keys as sent to the others; set at login. */
  bundle: KeyBundleWire | undefined;
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
  /** Joins and leaves so far: a key box per member is free again after each. */
  membershipChanges: number;
  /** The idle sweep's clock. */
  tick: number;
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
  bundle: KeyBundleWire | undefined;
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
  // Lines, not buffers: they are encoded once, together, in flush().
  private outgoing: string[] | undefined;
  // `{"type":"e2e-chat","from":"<name>",`: set once the name is known.
  private relayPrefix = '';
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
  private lookingUp = false;
  private readonly keyBoxes = new KeyBoxAllowance();

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
    const { room, online } = this.state;
    if (this.username !== '' && online.get(this.username) === this) online.delete(this.username);
    if (room.leave(this)) {
      this.state.membershipChanges += 1;
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

  // The client has finished sending; our FIN waits for what is still in hand.
  private onEnd(): void {
    this.peerEnded = true;
    this.log.debug({ event: 'peer_ended' }, 'the client has finished sending');
    this.answerEnd();
  }

  // Our FIN, after the client's, once nothing it sent is still in hand (stage 6).
  private answerEnd(): void {
    if (!this.peerEnded || this.pacer?.holding || this.phase === 'authenticating' || this.lookingUp)
      return;
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
      if (this.phase === 'chatting' && !this.freeKeyBox(frames[i]!) && !this.spend()) break;
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

  // A key box that needs no token: the first to a member since the room's
  // membership last changed, in the form our clients write.
  private freeKeyBox(frame: DecodedFrame): boolean {
    const to = frame.ok ? keyBoxRecipient(frame.text) : undefined;
    return (
      to !== undefined &&
      to !== this.username &&
      this.state.online.has(to) &&
      this.keyBoxes.take(to, this.state.membershipChanges)
    );
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
    // One string, one encoding, one buffer for every relay from this read.
    const text = outgoing.length === 1 ? outgoing[0]! : outgoing.join('');
    this.state.room.broadcast(Buffer.from(text, 'utf8'), this);
  }

  private handle(raw: DecodedFrame): void {
    // A room message in the form our clients write is relayed without a
    // parse (chat-relay.ts); any other line goes through the full decoder.
    // Either way the label is the name this connection logged in as (the
    // client cannot choose it), and the box goes out as it came: the server
    // holds no key that could open it.
    if (raw.ok && this.phase === 'chatting') {
      const relay = relayCanonicalChat(raw.text, this.relayPrefix);
      if (relay !== undefined) {
        (this.outgoing ??= []).push(relay);
        return;
      }
    }
    const decoded = raw.ok ? decodeClientFrame(raw.text) : raw;
    if (decoded.ok && this.phase === 'chatting' && decoded.frame.type === 'e2e-chat') {
      const { epoch, counter, box, sig } = decoded.frame;
      const frame: ServerFrame = {
        type: 'e2e-chat',
        from: this.username,
        epoch,
        counter,
        box,
        sig,
      };
      (this.outgoing ??= []).push(JSON.stringify(frame) + '\n');
      return;
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
    else if (frame.type === 'sender-key') this.route(frame);
    else if (frame.type === 'keys') {
      // A permit before the query: one look-up in flight per connection, so
      // a client cannot queue database work faster than it is answered.
      if (this.lookingUp) {
        this.answerError(new ChatError('RATE_LIMITED', 'one keys look-up at a time'));
      } else void this.lookUpKeys(frame.user).finally(() => this.answerEnd());
    } else if (frame.type !== 'pong') {
      this.answerError(new ChatError('BAD_FRAME', 'already logged in on this connection'));
    }
  }

  // A key box goes to its recipient only, unchanged but for the stamped
  // sender. It was written before the message that needs it, on this same
  // connection, and the recipient reads it first: the order is kept because
  // the pending broadcast was flushed above, before this frame.
  private route(frame: Extract<ClientFrame, { type: 'sender-key' }>): void {
    const recipient = this.state.online.get(frame.to);
    if (recipient === undefined || recipient === this) return; // gone: see the module comment
    const { eph, box, sig } = frame;
    this.state.room.send(
      recipient,
      encodeServerFrame({ type: 'sender-key', from: this.username, eph, box, sig }),
    );
  }

  private async lookUpKeys(user: string): Promise<void> {
    let keys;
    this.lookingUp = true;
    try {
      keys = await this.state.services.store.findUserKeys(user);
    } catch (err) {
      if (this.phase !== 'closed') this.answerOutage(err);
      return;
    } finally {
      this.lookingUp = false;
    }
    if (this.phase === 'closed') return;
    if (keys === undefined) {
      this.answerError(new ChatError('NO_KEYS', `no public keys are stored for ${user}`));
      return;
    }
    this.send({ type: 'keys', user, ...encodeKeyBundle({ username: user, ...keys }) });
  }

  // A failed look-up is the database's fault, not the member's: the answer
  // is not charged to the error budget (an outage would otherwise end a
  // well-behaved member's connection at its eleventh /verify), and it says
  // what a member can act on. The driver's detail ("ECONNREFUSED") is for
  // the operator: it goes to the log, sampled, never to a client.
  private answerOutage(err: unknown): void {
    if (err instanceof ChatError && err.code !== 'SERVICE_UNAVAILABLE') {
      this.answerError(err);
      return;
    }
    if (!(err instanceof ChatError)) {
      this.log.error({ err }, 'unexpected error during a keys look-up');
    } else if (this.state.sampler.allow('keys_lookup_failed')) {
      this.log.warn({ event: 'keys_lookup_failed', reason: err.message }, 'keys look-up failed');
    }
    this.send({
      type: 'error',
      code: 'SERVICE_UNAVAILABLE',
      message: 'the server cannot look up keys right now; try again later',
    });
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
    let user: Awaited<ReturnType<typeof logIn>>;
    try {
      user = await logIn(services, {
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
    // `logIn` checks right before it claims, so a closed connection gets
    // `undefined`. Checked here too, because joining the room is what turns
    // a closed connection into a ghost member: this connection never joins
    // once closed, and gives back a name it may hold. (Asked through
    // `abandoned()`: TypeScript still believes the phase is the
    // 'authenticating' set above, as if the await could not change it.)
    if (user === undefined || this.abandoned() === 'closed') {
      this.phase = 'closed';
      this.endSession();
      return;
    }
    const { username } = user;
    this.relayPrefix = relayPrefix(username);
    const bundle = encodeKeyBundle(user.keys);
    this.bundle = bundle;
    caps.loggedIn(this.group);
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.logger = undefined;
    this.heardAt = this.state.tick;
    this.phase = 'chatting';
    room.join(this);
    this.state.membershipChanges += 1;
    this.send({ type: 'welcome', user: username, ...listOnline(online) });
    // Everyone already here, with their keys: what the newcomer needs to
    // check their messages and to seal its own sender key to them.
    for (const member of online.values()) {
      if (member !== this && member.bundle !== undefined) {
        this.send({ type: 'member', user: member.username, ...member.bundle });
      }
    }
    // A ticket after a password only: a resume does not extend itself, so a
    // stolen ticket dies at its expiry however often it is used.
    if (frame.type !== 'resume') {
      const issued = services.tickets.issue(username);
      this.send({ type: 'ticket', ticket: issued.ticket, expires: issued.expiresAt.toISOString() });
    }
    room.broadcast(
      encodeServerFrame({ type: 'joined', who: username, online: room.size, ...bundle }),
      this,
    );
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
