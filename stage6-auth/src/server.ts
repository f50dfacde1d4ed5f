/**
 * Stage 6's chat server: stage 5's encrypted relay behind a login.
 *
 * What is new since stage 5 lives in three places: the connection module
 * (hello → login → chat, with a deadline), the handshake module (the order of
 * the checks) and the shared modules this stage introduces (the user store,
 * passwords in worker threads, the rate limiter, structured logs, the
 * connection caps). This file only wires them together and owns start-up,
 * the door (who may connect at all), the idle sweep and shutdown.
 *
 * @module
 */
import net from 'node:net';
import {
  ConnectionCaps,
  defaultMaxConnections,
  DEFAULT_PRE_LOGIN_PER_ADDRESS,
  type Refusal,
} from '../../shared/src/connection-caps';
import { ChatError } from '../../shared/src/errors';
import { listen } from '../../shared/src/listen';
import { LogSampler } from '../../shared/src/log-sampler';
import { silentLogger, type Logger } from '../../shared/src/logger';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import { PasswordHasher } from '../../shared/src/passwords';
import { closeServerPolitely } from '../../shared/src/polite-close';
import { presenceLimitOption } from '../../shared/src/presence';
import {
  LoginRateLimiter,
  type BucketLimit,
  type LoginRateLimitOptions,
} from '../../shared/src/rate-limit';
import { Room } from '../../shared/src/room';
import type { UserStore } from '../../shared/src/user-store';
import { serveConnection, type Member, type ServerState } from './connection';
import { encodeServerFrame } from './messages';

/** How long a connection may take to log in, by default: 30 seconds. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
/**
 * How long a logged-in connection may stay silent, by default: 3 minutes.
 * After half of it the server sends `ping`; the stage 6 client answers.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 180_000;
/** A logged-in connection's error budget, by default: 10 bad frames, then one more every 6 s. */
export const DEFAULT_ERROR_BUDGET: BucketLimit = { capacity: 10, refillMs: 6_000 };
/** Frames of one connection handled in one turn of the event loop, by default. */
export const DEFAULT_FRAMES_PER_TURN = 64;
// The idle sweep runs four times per idle timeout: the ping goes out after
// two silent periods (half the timeout), the close after four.
const SWEEPS_PER_TIMEOUT = 4;

/** Options for {@link startServer}. `key` and `store` are required. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** The room key (32 bytes): it opens the credential boxes. */
  key: Buffer;
  /** Where users are registered. The caller opens and closes it. */
  store: UserStore;
  /** bcrypt cost for new passwords. Default 12. */
  bcryptCost?: number;
  /** Hashing worker threads. Default: CPU cores minus one (at least 1). */
  hashWorkers?: number;
  /**
   * Hashing jobs that may wait for a worker at most (registrations get half);
   * below it a login is admitted by its expected wait. Default 256.
   */
  hashQueue?: number;
  /** Hashing jobs admitted and not finished per address (IPv6: /64). Default 8. */
  hashJobsPerAddress?: number;
  /**
   * An already started hasher to use instead of starting one (`bcryptCost`,
   * `hashWorkers` and `hashQueue` are then ignored). Its owner closes it, as
   * with the store. Fault tests pass one whose workers can be made to die.
   */
  hasher?: PasswordHasher;
  /** Milliseconds a connection has to log in. Default {@link DEFAULT_LOGIN_TIMEOUT_MS}. */
  loginTimeoutMs?: number;
  /** Login and registration limits. Default: the rate-limit module's defaults. */
  rateLimits?: LoginRateLimitOptions;
  /** Connections held at once. Default: derived from the open-file limit (`defaultMaxConnections`). */
  maxConnections?: number;
  /** Connections not yet logged in, per address (IPv6: /64). Default 32. */
  maxPreLoginPerAddress?: number;
  /** Milliseconds a logged-in connection may stay silent. Default {@link DEFAULT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number;
  /** Error replies a logged-in connection may cause. Default {@link DEFAULT_ERROR_BUDGET}. */
  errorBudget?: BucketLimit;
  /** Frames of one connection handled per turn of the event loop. Default {@link DEFAULT_FRAMES_PER_TURN}. */
  framesPerTurn?: number;
  /**
   * Frames a logged-in connection may send at once, and how fast more come
   * back; faster ones wait. Default `DEFAULT_MESSAGE_BUDGET` (shared/src/message-budget.ts).
   */
  messageBudget?: BucketLimit;
  /**
   * Largest room in which `joined` and `left` are sent (see
   * `PRESENCE_NOTICE_LIMIT` in shared/src/presence.ts). Default 1,000; tests
   * use a small one.
   */
  presenceLimit?: number;
  /** Per-client output queue cap in bytes. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Structured logs. Default: none. */
  logger?: Logger;
}

/** A running stage 6 server. */
export interface ChatServer {
  /** The address it listens on. */
  host: string;
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  /** Usernames logged in right now. */
  readonly online: string[];
  /**
   * Stops accepting, sends every connection `{"type":"bye"}`, waits for them
   * to close, then stops the hashing workers. The store is left to its owner.
   * Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Starts the stage 6 server: hashing workers first (start-up computes the
 * dummy hash), then the listening socket.
 *
 * @param options - key and store, plus the optional tuning above
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED` if the address cannot be bound (e.g. port in use),
 *   `BAD_ARGUMENT` for a bcrypt cost out of range, or a limit that is not a
 *   whole number (≥ 0 for the presence limit, ≥ 1 for the others)
 *
 * @example
 * ```ts
 * const store = await openUserStore({ sqlitePath: ':memory:' });
 * const server = await startServer({ port: 0, key: loadKeyFile(file), store });
 * console.log(`listening on ${server.host}:${server.port}`);
 * await server.close();
 * await store.close();
 * ```
 */
export async function startServer(options: ServerOptions): Promise<ChatServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const presenceLimit = presenceLimitOption(options.presenceLimit);
  const idleTimeoutMs = wholeNumber('idle timeout', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  const caps = new ConnectionCaps({
    maxConnections: wholeNumber('max connections', options.maxConnections, defaultMaxConnections()),
    maxPreLoginPerAddress: wholeNumber(
      'pre-login connections per address',
      options.maxPreLoginPerAddress,
      DEFAULT_PRE_LOGIN_PER_ADDRESS,
    ),
  });
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
      // The room destroyed the socket; its 'close' comes on a later tick.
      // The session ends now, so the name is free at once.
      member.endSession();
      logger.warn(
        { event: 'slow_consumer', user: member.username, code: error.code },
        error.message,
      );
    },
  });
  let connections = 0;
  const state: ServerState = {
    room,
    sockets: new Set(),
    departing: new Set(),
    online: new Map(),
    services: {
      key: options.key,
      store: options.store,
      hasher,
      limiter: new LoginRateLimiter(options.rateLimits),
      sampler,
    },
    caps,
    loginTimeoutMs: options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    errorBudget: options.errorBudget ?? DEFAULT_ERROR_BUDGET,
    messageBudget: options.messageBudget ?? DEFAULT_MESSAGE_BUDGET,
    framesPerTurn: wholeNumber('frames per turn', options.framesPerTurn, DEFAULT_FRAMES_PER_TURN),
    tick: 0,
    presenceLimit,
    shuttingDown: false,
    logger,
    sampler,
    nextConnectionId: () => ++connections,
  };
  const server = net.createServer((socket) => {
    // #region door
    const admitted = caps.admit(socket);
    if (typeof admitted !== 'string') return refuseAtTheDoor(socket, admitted.refused, sampler);
    // #endregion door
    serveConnection(socket, state, admitted);
  });
  // Every open socket, logged in or not (the connections keep this set up to
  // date): close() says goodbye to all of them.
  const { sockets } = state;
  let port: number;
  try {
    // listen() (shared/src/listen.ts) turns the OS's refusals into one
    // LISTEN_FAILED sentence, the same for every server of the course.
    ({ port } = await listen(server, { host, port: options.port }));
  } catch (err) {
    if (ownHasher) await hasher.close();
    throw err;
  }
  // After start-up an accept error (EMFILE, ENFILE...) must not crash the
  // server, nor fill the log when it repeats: the first of each kind, then
  // a count per interval (LogSampler).
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (sampler.allow(`server_error:${err.code}`, 1)) {
      logger.error({ event: 'server_error', code: err.code }, err.message);
    }
  });
  // The idle sweep: one timer for the whole server, not one per connection
  // (10,000 idle users would be 10,000 timers). Each run advances the clock
  // that connections stamp when they hear from their client.
  const sweep = setInterval(() => {
    state.tick++;
    for (const member of [...state.online.values()]) {
      member.checkIdle(state.tick, SWEEPS_PER_TIMEOUT / 2, SWEEPS_PER_TIMEOUT);
    }
  }, idleTimeoutMs / SWEEPS_PER_TIMEOUT).unref();
  logger.info(
    { event: 'listening', host, port, store: options.store.description, bcryptCost: hasher.cost },
    'listening',
  );
  // At debug level: the cap depends on the machine's open-file limit.
  logger.debug({ event: 'limits', ...caps.limits, idleTimeoutMs }, 'connection limits');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    get online() {
      return [...state.online.keys()];
    },
    close() {
      closing ??= (async () => {
        state.shuttingDown = true; // logins that finish from now on do not join
        clearInterval(sweep);
        logger.info({ event: 'shutdown', connections: sockets.size }, 'shutting down');
        const bye = encodeServerFrame({ type: 'bye', reason: 'server shutting down' });
        // Members that closed with frames still held: the room is closing
        // before the budget would let them out, so they leave now.
        for (const member of [...state.departing]) member.abandonHeld();
        await closeServerPolitely(server, sockets, bye); // every connection has closed
        sampler.close();
        if (ownHasher) await hasher.close();
      })();
      return closing;
    },
  };
}

// A connection past a cap: one error frame, and the descriptor is freed as
// soon as the frame is handed to the kernel (no linger for a stranger who
// has said nothing). Logged as a count, not once per connection.
function refuseAtTheDoor(socket: net.Socket, why: Refusal, sampler: LogSampler): void {
  socket.on('error', () => {});
  // A full server frees a place when someone leaves; an address's quota,
  // when one of its connections logs in or times out: sooner.
  const [message, retryAfterMs] =
    why === 'server full'
      ? ['the server has as many connections as it allows; try again later', 5_000]
      : ['too many connections from your address are not logged in; try again shortly', 1_000];
  socket.end(
    encodeServerFrame({ type: 'error', code: 'TOO_MANY_CONNECTIONS', message, retryAfterMs }),
    () => socket.destroy(),
  );
  if (sampler.allow(`refused:TOO_MANY_CONNECTIONS:${why}`, 1)) {
    sampler.logger.warn(
      { event: 'refused', code: 'TOO_MANY_CONNECTIONS', why, remote: socket.remoteAddress },
      `refused a connection: ${why} (TOO_MANY_CONNECTIONS)`,
    );
  }
}

function wholeNumber(what: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ChatError('BAD_ARGUMENT', `${what} must be a whole number ≥ 1`);
  }
  return n;
}
