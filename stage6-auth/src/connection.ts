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
  CHALLENGE_BYTES,
  decodeClientFrame,
  encodeServerFrame,
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
  /** Username → its one logged-in member: the duplicate-login check. */
  online: Map<string, Member>;
  /** Key, store, hasher and rate limiter. */
  services: AuthServices;
  /** Milliseconds a new connection has to log in. */
  loginTimeoutMs: number;
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
  const { room, online } = state;
  const ip = normalizeIp(socket.remoteAddress);
  const log = connectionLogger(
    state.logger,
    state.nextConnectionId(),
    `${ip}:${socket.remotePort}`,
  );
  const challenge = randomBytes(CHALLENGE_BYTES).toString('base64');
  const self: Member = { socket, username: '' };
  const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  const pending: DecodedFrame[] = [];
  let phase: Phase = 'handshake';

  // A function, so TypeScript does not narrow `phase` across an await.
  const isClosed = () => phase === 'closed';
  const send = (frame: ServerFrame) => room.send(self, encodeServerFrame(frame));

  // An error frame with a stable code, then goodbye: the rule for every
  // failure before login (and for oversized frames after it).
  const refuse = (error: ChatError) => {
    if (phase === 'closed') return;
    phase = 'closed';
    log.info({ event: 'refused', code: error.code }, `closing: ${error.code}`);
    state.endPolitely(
      socket,
      encodeServerFrame({ type: 'error', code: error.code, message: error.message }),
    );
  };

  socket.setNoDelay(true);
  socket.on('error', (err: NodeJS.ErrnoException) => {
    log.debug({ event: 'socket_error', code: err.code }, 'socket error');
  });
  log.info({ event: 'connect' }, 'connected');
  send({ type: 'hello', challenge });
  // A timer, not a timestamp check: a silent client sends nothing to check against.
  const deadline = setTimeout(
    () => refuse(new ChatError('LOGIN_TIMEOUT', `no login within ${state.loginTimeoutMs} ms`)),
    state.loginTimeoutMs,
  );

  socket.on('close', () => {
    clearTimeout(deadline);
    phase = 'closed';
    if (self.username !== '' && online.get(self.username) === self) online.delete(self.username);
    if (room.leave(self)) {
      room.broadcast(encodeServerFrame({ type: 'left', who: self.username, online: room.size }));
    }
    log.info({ event: 'disconnect', user: self.username || undefined }, 'disconnected');
  });

  socket.on('data', (chunk: Buffer) => {
    if (isClosed()) return; // refused: read (so the close stays polite) but ignore
    pending.push(...decoder.push(chunk));
    pump();
  });

  // Chat relays completed by one read, sent as ONE broadcast (one write per
  // recipient, not one per frame), as in stage 5.
  const outgoing: Buffer[] = [];
  const flush = () => {
    if (outgoing.length === 0) return;
    room.broadcast(outgoing.length === 1 ? outgoing[0]! : Buffer.concat(outgoing), self);
    outgoing.length = 0;
  };

  // Handles queued frames in order, stopping while a login is being checked.
  const pump = () => {
    while (pending.length > 0 && (phase === 'handshake' || phase === 'chatting')) {
      handle(pending.shift()!);
    }
    flush();
  };

  const handle = (raw: DecodedFrame) => {
    const decoded = raw.ok ? decodeClientFrame(raw.text) : raw;
    // #region focus
    if (decoded.ok && phase === 'chatting' && decoded.frame.type === 'chat') {
      // The box is relayed unchanged, labelled with the name we authenticated.
      // The sender sealed it with that name in the AD; if it lied, every
      // receiver's open() fails, so the label cannot be forged.
      const { box } = decoded.frame;
      outgoing.push(encodeServerFrame({ type: 'chat', from: self.username, box }));
      return;
    }
    // #endregion focus
    // Anything else is answered or acted on at once: let the chat that came
    // before it go out first, so everyone sees this client's frames in order.
    flush();
    if (!decoded.ok) {
      log.info({ event: 'bad_frame', code: decoded.error.code }, 'bad frame');
      // Before login every mistake ends the connection; after it only an
      // oversized frame does (the client ignored the protocol's limit).
      if (phase === 'handshake' || decoded.error.code === 'FRAME_TOO_LARGE') refuse(decoded.error);
      else send({ type: 'error', code: decoded.error.code, message: decoded.error.message });
      return;
    }
    const frame = decoded.frame;
    if (phase === 'handshake') {
      if (frame.type === 'login' || frame.type === 'register') void logIn(frame);
      else refuse(new ChatError('NOT_LOGGED_IN', `log in before sending "${frame.type}"`));
      return;
    }
    if (frame.type === 'who') {
      send({ type: 'who', online: [...online.keys()] });
    } else {
      send({ type: 'error', code: 'BAD_FRAME', message: 'already logged in on this connection' });
    }
  };

  const logIn = async (frame: AuthFrame) => {
    phase = 'authenticating';
    socket.pause(); // read nothing more until we know who this is
    log.debug({ event: 'auth_started', action: frame.type }, 'checking credentials');
    let username: string;
    try {
      username = await authenticate(state.services, {
        frame,
        challenge,
        ip,
        log,
        claim: (name) => {
          if (online.has(name)) return false;
          self.username = name;
          online.set(name, self);
          return true;
        },
      });
    } catch (err) {
      refuse(err instanceof ChatError ? err : new ChatError('SERVICE_UNAVAILABLE', 'login failed'));
      return;
    }
    if (isClosed()) {
      // The client left (or hit the deadline) while we hashed: release the name.
      if (online.get(username) === self) online.delete(username);
      return;
    }
    clearTimeout(deadline);
    phase = 'chatting';
    room.join(self);
    send({ type: 'welcome', user: username, online: [...online.keys()] });
    room.broadcast(encodeServerFrame({ type: 'joined', who: username, online: room.size }), self);
    socket.resume();
    pump();
  };
}

/** `::ffff:127.0.0.1` (IPv4 seen through an IPv6 socket) → `127.0.0.1`. */
function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
