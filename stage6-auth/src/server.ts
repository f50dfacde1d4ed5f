/**
 * Stage 6's chat server: stage 5's encrypted relay behind a login.
 *
 * What is new since stage 5 lives in three places: the connection module
 * (hello → login → chat, with a deadline), the handshake module (the order of
 * the checks) and the shared modules this stage introduces (the user store,
 * passwords in worker threads, the rate limiter, structured logs). This file
 * only wires them together and owns start-up and shutdown.
 *
 * @module
 */
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { silentLogger, type Logger } from '../../shared/src/logger';
import { PasswordHasher } from '../../shared/src/passwords';
import { endPolitely } from '../../shared/src/polite-close';
import { LoginRateLimiter, type LoginRateLimitOptions } from '../../shared/src/rate-limit';
import { Room } from '../../shared/src/room';
import type { UserStore } from '../../shared/src/user-store';
import { serveConnection, type Member, type ServerState } from './connection';
import { encodeServerFrame, PRESENCE_NOTICE_LIMIT } from './messages';

/** How long a connection may take to log in, by default: 30 seconds. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;

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
  /** Logins that may wait for a worker before `SERVICE_UNAVAILABLE`. Default 32. */
  hashQueue?: number;
  /**
   * An already started hasher to use instead of starting one (`bcryptCost`,
   * `hashWorkers` and `hashQueue` are then ignored). Its owner closes it, as
   * with the store. Fault tests pass one whose workers can be made to die.
   */
  hasher?: PasswordHasher;
  /** Milliseconds a connection has to log in. Default {@link DEFAULT_LOGIN_TIMEOUT_MS}. */
  loginTimeoutMs?: number;
  /** Failed-login limits. Default: the rate-limit module's defaults. */
  rateLimits?: LoginRateLimitOptions;
  /**
   * Largest room in which `joined` and `left` are sent (see
   * {@link PRESENCE_NOTICE_LIMIT}). Default 1,000; tests use a small one.
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
 *   `BAD_ARGUMENT` for a bcrypt cost out of range or a presence limit that is
 *   not a whole number ≥ 0
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
  const presenceLimit = options.presenceLimit ?? PRESENCE_NOTICE_LIMIT;
  if (!Number.isSafeInteger(presenceLimit) || presenceLimit < 0) {
    throw new ChatError('BAD_ARGUMENT', 'presence limit must be a whole number ≥ 0');
  }
  const ownHasher = options.hasher === undefined;
  const hasher =
    options.hasher ??
    (await PasswordHasher.start({
      cost: options.bcryptCost,
      workers: options.hashWorkers,
      maxQueue: options.hashQueue,
    }));
  const room = new Room<Member>({
    maxQueueBytes: options.maxQueueBytes,
    onSlowConsumer: (member, error) =>
      logger.warn(
        { event: 'slow_consumer', user: member.username, code: error.code },
        error.message,
      ),
  });
  let connections = 0;
  const state: ServerState = {
    room,
    sockets: new Set(),
    online: new Map(),
    services: {
      key: options.key,
      store: options.store,
      hasher,
      limiter: new LoginRateLimiter(options.rateLimits),
    },
    loginTimeoutMs: options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    presenceLimit,
    shuttingDown: false,
    logger,
    nextConnectionId: () => ++connections,
    endPolitely,
  };
  const server = net.createServer((socket) => serveConnection(socket, state));
  // Every open socket, logged in or not (the connections keep this set up to
  // date): close() says goodbye to all of them.
  const { sockets } = state;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const reason = err.code ?? err.message;
        reject(
          new ChatError('LISTEN_FAILED', `cannot listen on ${host}:${options.port} (${reason})`),
        );
      });
      server.listen({ host, port: options.port ?? 0 }, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
  } catch (err) {
    if (ownHasher) await hasher.close();
    throw err;
  }
  // After start-up an accept error (EMFILE...) must not crash the server.
  server.on('error', (err: NodeJS.ErrnoException) =>
    logger.error({ event: 'server_error', code: err.code }, err.message),
  );
  const port = (server.address() as net.AddressInfo).port;
  logger.info(
    { event: 'listening', host, port, store: options.store.description, bcryptCost: hasher.cost },
    'listening',
  );

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
        logger.info({ event: 'shutdown', connections: sockets.size }, 'shutting down');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const bye = encodeServerFrame({ type: 'bye', reason: 'server shutting down' });
        for (const socket of sockets) endPolitely(socket, bye);
        await closed; // every connection has closed
        if (ownHasher) await hasher.close();
      })();
      return closing;
    },
  };
}
