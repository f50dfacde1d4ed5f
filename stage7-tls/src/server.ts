/**
 * Stage 7's chat server: stage 6's accounts server over TLS 1.3, with no
 * room key. Logins and chat are plain JSON frames inside TLS.
 *
 * This file wires the pieces together: the TLS listener and its door
 * (`shared/src/tls-door.ts`: connection caps and a pace per address, counted
 * when the TCP connection arrives, before the handshake spends a signature
 * on it; plain-text clients answered with `TLS_REQUIRED`; a few handshakes
 * per turn of the event loop; failed handshakes logged by kind, sampled),
 * start-up, the idle sweep and shutdown. After the handshake,
 * `connection.ts` takes over, as in stage 6.
 *
 * @module
 */
import type net from 'node:net';
import tls from 'node:tls';
import {
  ConnectionCaps,
  defaultMaxConnections,
  DEFAULT_NEW_CONNECTIONS_PER_ADDRESS,
  DEFAULT_PRE_LOGIN_PER_ADDRESS,
} from '../../shared/src/connection-caps';
import { DEFAULT_HANDSHAKES_PER_TURN } from '../../shared/src/handshake-gate';
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
import { openTlsDoor } from '../../shared/src/tls-door';
import { tlsServerOptions } from '../../shared/src/tls-server';
import type { UserStore } from '../../shared/src/user-store';
import { serveConnection, type Member, type ServerState } from './connection';
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
  /** New connections per address: a burst, then one per `refillMs`. Default {@link DEFAULT_NEW_CONNECTIONS_PER_ADDRESS}. */
  newConnectionsPerAddress?: BucketLimit;
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
    newPerAddress: options.newConnectionsPerAddress ?? DEFAULT_NEW_CONNECTIONS_PER_ADDRESS,
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
    departing: new Set(),
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
  const door = openTlsDoor(
    server,
    { caps, sampler, alpnProtocol: ALPN_PROTOCOL, handshakesPerTurn },
    (socket, group) => serveConnection(socket, state, group),
  );

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
        for (const member of [...state.departing]) member.abandonHeld(); // nobody will pace them now
        await closeServerPolitely(server, state.sockets, bye);
        sampler.close();
        if (ownHasher) await hasher.close();
      })();
      return closing;
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
