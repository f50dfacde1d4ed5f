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
 * A server with 10,000 users online holds 10,000 of these, and most of them
 * sit idle most of the time, so what one keeps after login is worth counting.
 * It is one object (a class: its methods exist once, where closures would be
 * made again for every connection), its socket, and three small listeners.
 * What only the login needed (the challenge, the deadline timer, the queue of
 * frames that waited behind the login, the child logger) is dropped once the
 * client is in; the logger is made again if the connection has something to
 * say. The benchmark's idle scenario measured the difference: an earlier
 * version, eleven closures and a child logger per connection, kept 5.3 KiB of
 * heap per idle user; this one keeps 1.8 KiB, where the raw broadcaster keeps
 * 1.3 KiB. (Under tsx a closure stored in a `const` costs more than it looks:
 * tsx keeps function names by redefining `name` on each one, about 250 bytes.)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { LineDecoder, type DecodedFrame } from '../../shared/src/framing';
import { connectionLogger, type Logger } from '../../shared/src/logger';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import type { Room } from '../../shared/src/room';
import { authenticate, type AuthServices } from './handshake';
import {
  announcesPresence,
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
}

/** What every connection shares: the room, who is online, and the services. */
export interface ServerState {
  /** Logged-in members (a connection joins only after login). */
  room: Room<Member>;
  /** Every open socket, logged in or not: the server says goodbye to each at shutdown. */
  sockets: Set<net.Socket>;
  /** Username → its one logged-in member: the duplicate-login check. */
  online: Map<string, Member>;
  /** Key, store, hasher and rate limiter. */
  services: AuthServices;
  /** Milliseconds a new connection has to log in. */
  loginTimeoutMs: number;
  /** Largest room in which `joined` and `left` are sent (see `announcesPresence`). */
  presenceLimit: number;
  /** Set when shutdown begins: a login that completes after it does not join. */
  shuttingDown: boolean;
  /** The server's logger; each connection makes a child with its id. */
  logger: Logger;
  /** Hands out connection ids (1, 2, 3…) for the logs. */
  nextConnectionId: () => number;
  /** Ends a socket after a last frame, politely (see the server module). */
  endPolitely: (socket: net.Socket, lastFrame?: Buffer) => void;
}

type Phase = 'handshake' | 'authenticating' | 'chatting' | 'closed';

/**
 * Takes charge of a freshly accepted socket: sends `hello`, starts the login
 * deadline, and handles every frame until the socket closes.
 *
 * @param socket - the accepted connection
 * @param state - what all connections share
 */
export function serveConnection(socket: net.Socket, state: ServerState): void {
  // The socket's listeners keep the connection alive; nothing else needs it.
  new Connection(socket, state).start();
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
  private readonly decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  // Frames that arrived while the password was being checked, in order.
  private backlog: DecodedFrame[] | undefined;
  // Chat relays completed by one read, sent as ONE broadcast (one write per
  // recipient, not one per frame), as in stage 5.
  private outgoing: Buffer[] | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly state: ServerState,
  ) {
    this.id = state.nextConnectionId();
  }

  start(): void {
    const { socket, state } = this;
    state.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug({ event: 'socket_error', code: err.code }, 'socket error');
    });
    socket.on('close', () => this.onClose());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.log.info({ event: 'connect' }, 'connected');
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
      const remote = `${normalizeIp(socket.remoteAddress)}:${socket.remotePort}`;
      this.logger = connectionLogger(this.state.logger, this.id, remote);
    }
    return this.logger;
  }

  private send(frame: ServerFrame): void {
    this.state.room.send(this, encodeServerFrame(frame));
  }

  // An error frame with a stable code, then goodbye: the rule for every
  // failure before login (and for oversized frames after it).
  private refuse(error: ChatError): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.log.info({ event: 'refused', code: error.code }, `closing: ${error.code}`);
    this.state.endPolitely(
      this.socket,
      encodeServerFrame({ type: 'error', code: error.code, message: error.message }),
    );
  }

  private onClose(): void {
    const { room, online, sockets, presenceLimit } = this.state;
    sockets.delete(this.socket);
    clearTimeout(this.deadline);
    this.phase = 'closed';
    if (this.username !== '' && online.get(this.username) === this) online.delete(this.username);
    // room.size + 1: the room as it was before this member left.
    if (room.leave(this) && announcesPresence(room.size + 1, presenceLimit)) {
      room.broadcast(encodeServerFrame({ type: 'left', who: this.username, online: room.size }));
    }
    this.log.info({ event: 'disconnect', user: this.username || undefined }, 'disconnected');
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return; // refused: read (so the close stays polite) but ignore
    this.process(this.decoder.push(chunk));
  }

  // Handles frames in order. Once a login starts, the rest wait in the backlog
  // (the socket is paused, but this read may already hold more frames).
  private process(frames: DecodedFrame[]): void {
    for (let i = 0; i < frames.length; i++) {
      if (this.phase === 'closed') break;
      if (this.phase === 'authenticating') {
        (this.backlog ??= []).push(...frames.slice(i));
        break;
      }
      this.handle(frames[i]!);
    }
    this.flush();
  }

  private flush(): void {
    const { outgoing } = this;
    if (outgoing === undefined) return;
    this.outgoing = undefined;
    const bytes = outgoing.length === 1 ? outgoing[0]! : Buffer.concat(outgoing);
    this.state.room.broadcast(bytes, this);
  }

  private handle(raw: DecodedFrame): void {
    const decoded = raw.ok ? decodeClientFrame(raw.text) : raw;
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
      this.log.info({ event: 'bad_frame', code: decoded.error.code }, 'bad frame');
      // Before login every mistake ends the connection; after it only an
      // oversized frame does (the client ignored the protocol's limit).
      if (this.phase === 'handshake' || decoded.error.code === 'FRAME_TOO_LARGE') {
        this.refuse(decoded.error);
      } else {
        this.send({ type: 'error', code: decoded.error.code, message: decoded.error.message });
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
    } else {
      this.send({
        type: 'error',
        code: 'BAD_FRAME',
        message: 'already logged in on this connection',
      });
    }
  }

  private async logIn(frame: AuthFrame): Promise<void> {
    const { room, online } = this.state;
    this.phase = 'authenticating';
    this.socket.pause(); // read nothing more until we know who this is
    this.log.debug({ event: 'auth_started', action: frame.type }, 'checking credentials');
    let username: string | undefined;
    try {
      username = await authenticate(this.state.services, {
        frame,
        challenge: this.challenge!,
        ip: normalizeIp(this.socket.remoteAddress),
        log: this.log,
        claim: (name) => {
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
    }
    if (username === undefined) {
      // Nobody to welcome (see `abandoned`), and nothing was claimed. At
      // shutdown the server has already sent this socket its `bye` and is
      // ending it; this connection only has to stay out of the room.
      this.phase = 'closed';
      return;
    }
    // In: what only the handshake needed can go.
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.challenge = undefined;
    this.logger = undefined;
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
    if (backlog !== undefined) this.process(backlog);
  }

  // Why a login that has just been checked would have nobody to welcome.
  // (A method, so TypeScript does not narrow `phase` across an await.)
  private abandoned(): 'closed' | 'shutdown' | undefined {
    if (this.phase === 'closed') return 'closed';
    if (this.state.shuttingDown) return 'shutdown';
    return undefined;
  }
}

/** `::ffff:127.0.0.1` (IPv4 seen through an IPv6 socket) → `127.0.0.1`. */
function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
