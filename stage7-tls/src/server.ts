/**
 * Stage 7's chat server: stage 6's accounts server over TLS 1.3, with no
 * room key. Logins and chat are plain JSON frames inside TLS.
 *
 * This file wires the pieces together and owns what happens *before* a
 * connection has a TLS session: the door (connection caps, counted when the
 * TCP connection arrives, before the handshake spends a signature on it),
 * plain-text clients (answered with `TLS_REQUIRED`), failed handshakes
 * (logged by kind, sampled), a few handshakes per turn of the event loop
 * (`handshake-gate.ts`), start-up, the idle sweep and shutdown. After
 * the handshake, `connection.ts` takes over, as in stage 6.
 *
 * @module
 */
import type net from 'node:net';
import tls from 'node:tls';
import {
  ConnectionCaps,
  defaultMaxConnections,
  DEFAULT_PRE_LOGIN_PER_ADDRESS,
} from '../../shared/src/connection-caps';
import { ChatError } from '../../shared/src/errors';
import { listen } from '../../shared/src/listen';
import { LogSampler } from '../../shared/src/log-sampler';
import { silentLogger, type Logger } from '../../shared/src/logger';
import { LoginTickets, tlsSessionTicketKeys, type TicketKeys } from '../../shared/src/login-ticket';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import { PasswordHasher } from '../../shared/src/passwords';
import { closeServerPolitely, endPolitely } from '../../shared/src/polite-close';
import {
  LoginRateLimiter,
  type BucketLimit,
  type LoginRateLimitOptions,
} from '../../shared/src/rate-limit';
import { Room } from '../../shared/src/room';
import {
  closeFailedHandshakes,
  refusePlaintext,
  tlsServerOptions,
  unexpectedProtocol,
  type TlsClientFailure,
} from '../../shared/src/tls-server';
import type { UserStore } from '../../shared/src/user-store';
import { serveConnection, type Member, type ServerState } from './connection';
import { DEFAULT_HANDSHAKES_PER_TURN, gateHandshakes, TurnGate } from './handshake-gate';
import {
  ALPN_PROTOCOL,
  encodeServerFrame,
  MAX_LISTED_USERS,
  PRESENCE_NOTICE_LIMIT,
} from './messages';
import { PresenceNotices } from '../../shared/src/presence-notices';

/** How long a connection may take to log in after its handshake, by default: 30 s. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
/** How long a logged-in connection may stay silent, by default: 3 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 180_000;
/** How long a TLS handshake may take, by default: 10 s (Node's own default is 120 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** A logged-in connection's error budget, by default: 10 bad frames, then one per 6 s. */
export const DEFAULT_ERROR_BUDGET: BucketLimit = { capacity: 10, refillMs: 6_000 };
/** Frames of one connection handled in one turn of the event loop, by default. */
export const DEFAULT_FRAMES_PER_TURN = 64;
const SWEEPS_PER_TIMEOUT = 4;

/** The server's TLS identity: certificate chain, private key, ticket keys. */
export interface ServerTlsIdentity {
  /** Certificate chain, PEM, leaf first. */
  chainPem: string;
  /** The private key, PEM. Never logged. */
  privateKeyPem: string;
  /** Keys for login tickets and TLS session tickets (see `login-ticket.ts`). Never logged. */
  ticketKeys: TicketKeys;
}

/** Options for {@link startServer}. `identity` and `store` are required. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Certificate, key and ticket keys. */
  identity: ServerTlsIdentity;
  /** Registered users; the caller opens and closes it. */
  store: UserStore;
  /** bcrypt cost for new passwords. Default 12. */
  bcryptCost?: number;
  /** Hashing worker threads. Default: cores minus one. */
  hashWorkers?: number;
  /** Hashing jobs that may wait at most. Default 256. */
  hashQueue?: number;
  /** Hashing jobs per address. Default 8. */
  hashJobsPerAddress?: number;
  /** A started hasher to use (its owner closes it); tests count its jobs. */
  hasher?: PasswordHasher;
  /** Login ticket lifetime in ms. Default 24 h. */
  ticketLifetimeMs?: number;
  /** The tickets' clock, ms since the epoch. Default `Date.now` (tests move it). */
  ticketClock?: () => number;
  /** Milliseconds a connection has to log in. Default {@link DEFAULT_LOGIN_TIMEOUT_MS}. */
  loginTimeoutMs?: number;
  /** Milliseconds a handshake may take. Default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}. */
  handshakeTimeoutMs?: number;
  /** Login and registration limits. */
  rateLimits?: LoginRateLimitOptions;
  /** Connections held at once. Default: from the open-file limit. */
  maxConnections?: number;
  /** Connections not yet logged in, per address. Default 32. */
  maxPreLoginPerAddress?: number;
  /** Silence allowed after login. Default {@link DEFAULT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number;
  /** Error replies a logged-in connection may cause. Default {@link DEFAULT_ERROR_BUDGET}. */
  errorBudget?: BucketLimit;
  /** Frames per connection per turn. Default {@link DEFAULT_FRAMES_PER_TURN}. */
  framesPerTurn?: number;
  /** Frames a logged-in connection may send at once, then at the refill's pace. Default `DEFAULT_MESSAGE_BUDGET` (message-budget.ts). */
  messageBudget?: BucketLimit;
  /** Largest room with `joined`/`left`/`presence` notices (0: none). Default 1,000. */
  presenceLimit?: number;
  /** TLS handshakes started per turn of the event loop. Default {@link DEFAULT_HANDSHAKES_PER_TURN}. */
  handshakesPerTurn?: number;
  /** Per-client output queue cap in bytes. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Structured logs. Default: none. */
  logger?: Logger;
}

/** A running stage 7 server. */
export interface ChatServer {
  /** The address it listens on. */
  host: string;
  /** The port it listens on. */
  port: number;
  /** Usernames logged in right now. */
  readonly online: string[];
  /** Says `bye` to everyone, waits for them to close, stops the workers. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the stage 7 server: hashing workers, then the TLS listener.
 *
 * @param options - identity and store, plus tuning
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED`, `BAD_ARGUMENT` (a limit that is not a whole number)
 *
 * @example
 * ```ts
 * const { certificate, ticketKeys } = await ensureServerIdentity(files, { generate: true, say });
 * const server = await startServer({
 *   identity: { chainPem: certificate.chainPem, privateKeyPem: certificate.privateKeyPem, ticketKeys },
 *   store,
 * });
 * ```
 */
export async function startServer(options: ServerOptions): Promise<ChatServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const idleTimeoutMs = whole('idle timeout', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  const caps = new ConnectionCaps({
    maxConnections: whole('max connections', options.maxConnections, defaultMaxConnections()),
    maxPreLoginPerAddress: whole(
      'pre-login connections per address',
      options.maxPreLoginPerAddress,
      DEFAULT_PRE_LOGIN_PER_ADDRESS,
    ),
  });
  const presenceLimit = whole('presence limit', options.presenceLimit, PRESENCE_NOTICE_LIMIT, 0);
  const handshakesPerTurn = whole(
    'handshakes per turn',
    options.handshakesPerTurn,
    DEFAULT_HANDSHAKES_PER_TURN,
  );
  const framesPerTurn = whole('frames per turn', options.framesPerTurn, DEFAULT_FRAMES_PER_TURN);
  const ownHasher = options.hasher === undefined;
  const hasher =
    options.hasher ??
    (await PasswordHasher.start({
      cost: options.bcryptCost,
      workers: options.hashWorkers,
      maxQueue: options.hashQueue,
      maxPerClient: options.hashJobsPerAddress,
    }));
  const sampler = new LogSampler(logger);
  const room = new Room<Member>({
    maxQueueBytes: options.maxQueueBytes,
    onSlowConsumer: (member, error) => {
      member.endSession();
      logger.warn(
        { event: 'slow_consumer', user: member.username, code: error.code },
        error.message,
      );
    },
  });
  const { identity } = options;
  let connections = 0;
  const state: ServerState = {
    room,
    sockets: new Set(),
    online: new Map(),
    services: {
      store: options.store,
      hasher,
      limiter: new LoginRateLimiter(options.rateLimits),
      tickets: new LoginTickets({
        keys: identity.ticketKeys,
        lifetimeMs: options.ticketLifetimeMs,
        now: options.ticketClock,
      }),
      sampler,
    },
    caps,
    loginTimeoutMs: options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    errorBudget: options.errorBudget ?? DEFAULT_ERROR_BUDGET,
    messageBudget: options.messageBudget ?? DEFAULT_MESSAGE_BUDGET,
    framesPerTurn,
    tick: 0,
    presence: new PresenceNotices(room, presenceLimit, {
      encode: encodeServerFrame,
      maxListed: MAX_LISTED_USERS,
    }),
    shuttingDown: false,
    logger,
    sampler,
    nextConnectionId: () => ++connections,
    endPolitely,
  };

  const server = tls.createServer({
    ...tlsServerOptions({
      chainPem: identity.chainPem,
      privateKeyPem: identity.privateKeyPem,
      alpnProtocol: ALPN_PROTOCOL,
      // Derived from the ticket key file: TLS sessions survive a restart.
      sessionTicketKeys: tlsSessionTicketKeys(identity.ticketKeys, identity.privateKeyPem),
    }),
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  gateHandshakes(server, new TurnGate(handshakesPerTurn)); // first: the door's plain-text check hands over to the gate
  const door = openDoor(server, caps, sampler);
  // Refused handshakes are logged by kind, sampled: anyone can cause them at no cost.
  const refused = (failure: TlsClientFailure) => {
    if (sampler.allow(`handshake_refused:${failure.code}`)) {
      logger.info({ event: 'handshake_refused', code: failure.code }, failure.message);
    }
  };
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const other = unexpectedProtocol(socket, ALPN_PROTOCOL); // a client that offered no ALPN
    if (other !== undefined) {
      refused(other);
      return void socket.destroy(); // before handOver: the door counts it down on close
    }
    const group = door.handOver(socket);
    if (group === undefined) return void socket.destroy(); // closed meanwhile
    serveConnection(socket, state, group);
  });
  // A failed handshake is logged, and its connection closed (Node leaves a timed-out one open).
  closeFailedHandshakes(server, refused);

  let address: net.AddressInfo;
  try {
    address = await listen(server, { host, port: options.port ?? 0 });
  } catch (err) {
    if (ownHasher) await hasher.close();
    throw err;
  }
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (sampler.allow(`server_error:${err.code}`, 1)) {
      logger.error({ event: 'server_error', code: err.code }, err.message);
    }
  });
  const sweep = setInterval(() => {
    state.tick++;
    for (const member of [...state.online.values()]) {
      member.checkIdle(state.tick, SWEEPS_PER_TIMEOUT / 2, SWEEPS_PER_TIMEOUT);
    }
  }, idleTimeoutMs / SWEEPS_PER_TIMEOUT).unref();
  logger.info(
    {
      event: 'listening',
      host,
      port: address.port,
      store: options.store.description,
      bcryptCost: hasher.cost,
    },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    get online() {
      return [...state.online.keys()];
    },
    close() {
      closing ??= (async () => {
        state.shuttingDown = true;
        clearInterval(sweep);
        state.presence.close(); // everyone is told "bye"; who left no longer matters
        logger.info({ event: 'shutdown', connections: state.sockets.size }, 'shutting down');
        door.closeUnfinished(); // mid-handshake: nothing to say goodbye to yet
        const bye = encodeServerFrame({ type: 'bye', reason: 'server shutting down' });
        // Resolves after every connection's own 'close' handling (its session
        // released, its line logged), not just when Node counts none open.
        await closeServerPolitely(server, state.sockets, bye);
        sampler.close();
        if (ownHasher) await hasher.close();
      })();
      return closing;
    },
  };
}

/** The door: caps counted per TCP connection, before the handshake. */
interface Door {
  /** The address group of a socket whose handshake finished; `undefined` if unknown. */
  handOver(socket: tls.TLSSocket): string | undefined;
  /** Destroys every connection still in its handshake (at shutdown). */
  closeUnfinished(): void;
}

// The caps count TCP connections as they arrive: a handshake costs the
// server a signature, so it must not be free to start thousands of them. A
// connection past a cap is closed at once, before the handshake: its client
// sees the connection drop (it cannot read a plain-text error inside TLS).
// A TLS socket is matched to its TCP connection by the peer's address and
// port, which identify one live connection.
function openDoor(server: tls.Server, caps: ConnectionCaps, sampler: LogSampler): Door {
  const waiting = new Map<string, { group: string; raw: net.Socket }>();
  const keyOf = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
  refusePlaintext(server, {
    onRefused: (_socket, failure) => {
      if (sampler.allow(`refused:${failure.code}`)) {
        sampler.logger.info({ event: 'refused', code: failure.code }, failure.message);
      }
    },
  });
  // Before refusePlaintext's listener: a refused connection costs nothing more.
  server.prependListener('connection', (raw: net.Socket) => {
    // Reset before Node accepted it: no peer address, so no key to match its
    // TLS socket by (two such were one entry, and one was never counted out).
    if (raw.remoteAddress === undefined) return void raw.destroy();
    const admitted = caps.admit(raw);
    if (typeof admitted !== 'string') {
      raw.destroy();
      if (sampler.allow(`refused:TOO_MANY_CONNECTIONS:${admitted.refused}`, 1)) {
        sampler.logger.warn(
          { event: 'refused', code: 'TOO_MANY_CONNECTIONS', why: admitted.refused },
          `refused a connection before its handshake: ${admitted.refused}`,
        );
      }
      return;
    }
    const key = keyOf(raw);
    waiting.set(key, { group: admitted, raw });
    raw.once('close', () => {
      // Still here: the handshake never finished, so no connection counts it down.
      if (waiting.get(key)?.raw === raw) {
        waiting.delete(key);
        caps.closed(admitted, true);
      }
    });
  });
  return {
    handOver(socket) {
      const key = keyOf(socket);
      const entry = waiting.get(key);
      waiting.delete(key);
      return entry?.group;
    },
    closeUnfinished() {
      for (const { raw } of waiting.values()) raw.destroy();
    },
  };
}

function whole(what: string, value: number | undefined, fallback: number, min = 1): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ChatError('BAD_ARGUMENT', `${what} must be a whole number ≥ ${min}`);
  }
  return n;
}
