/**
 * Stage 9's chat server: stage 7's TLS server, run as one node of many that
 * share one room through Redis (or, with no Redis, as the only node of an
 * in-process cluster: the same code path, nothing to install).
 *
 * What this file adds to stage 7's is the cluster membership: before
 * listening, the node joins the cluster (`joinCluster`) and hands it five
 * callbacks: where to write frames from other nodes (its local room), what
 * to tell members when a user comes or goes elsewhere, when the node splits
 * from the cluster or rejoins it (`ROOM_SPLIT`, `ROOM_REJOINED`), when
 * messages from another node never arrived (`MESSAGES_LOST`), and which
 * session to end when a login elsewhere took it over during a split
 * (`LOGGED_IN_ELSEWHERE`). At shutdown it leaves the cluster last, so the
 * other nodes see its users leave at once instead of after the TTL.
 *
 * Everything else is stage 7's: the door (`shared/src/tls-door.ts`: caps
 * and a pace per address before the handshake, plain-text refusals, a few
 * handshakes per turn, handshake logging), the idle sweep.
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
import { PresenceNotices } from '../../shared/src/presence-notices';
import {
  LoginRateLimiter,
  type BucketLimit,
  type LoginRateLimitOptions,
} from '../../shared/src/rate-limit';
import { Room } from '../../shared/src/room';
import { openTlsDoor } from '../../shared/src/tls-door';
import { tlsServerOptions } from '../../shared/src/tls-server';
import type { UserStore } from '../../shared/src/user-store';
import { attemptPermits } from './attempt-permits';
import { joinCluster, type ClusterNode } from './cluster-node';
import { serveConnection, type Member, type ServerState } from './connection';
import { BusKeys } from './bus-keys';
import type { LocalCluster } from './local-cluster';
import {
  ALPN_PROTOCOL,
  encodeServerFrame,
  MAX_LISTED_USERS,
  PRESENCE_NOTICE_LIMIT,
} from './messages';

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
  /** TLS handshakes started per turn of the event loop. Default {@link DEFAULT_HANDSHAKES_PER_TURN}. */
  handshakesPerTurn?: number;
  /** Frames a logged-in connection may send at once, then at the refill's pace. Default `DEFAULT_MESSAGE_BUDGET` (message-budget.ts). */
  messageBudget?: BucketLimit;
  /** Largest room with `joined`/`left` notices. Default 1,000. */
  presenceLimit?: number;
  /** Per-client output queue cap in bytes. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Structured logs. Default: none. */
  logger?: Logger;
  /** `CHAT_REDIS_URL`: join a cluster over Redis. Absent: an in-process cluster. */
  redisUrl?: string;
  /** The in-process cluster to join without Redis (`stage9:cluster` shares one). */
  localCluster?: LocalCluster;
  /** A readable node name (its id adds a random suffix). Default `node-PORT`. */
  nodeName?: string;
  /** Prefix of every Redis key and channel. Default `chat:`. */
  keyPrefix?: string;
  /** Cluster heartbeat in ms. Default 2 s. */
  heartbeatMs?: number;
  /** How long a session outlives its node's last heartbeat, in ms. Default 6 s. */
  sessionTtlMs?: number;
  /** How long a Redis command may take before the node counts itself split, in ms. Default 5 s. */
  redisCommandTimeoutMs?: number;
}

/** A running stage 9 node. */
export interface ChatServer {
  /** The address it listens on. */
  host: string;
  /** The port it listens on. */
  port: number;
  /** Usernames logged in on this node right now. */
  readonly online: string[];
  /** This node's id in the cluster, `NAME~RANDOM`. */
  readonly nodeId: string;
  /** *joined*, or *split* from the other nodes (serving its own members). */
  readonly clusterState: 'joined' | 'split';
  /** Says `bye` to everyone, waits for them to close, stops the workers. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a stage 9 node: hashing workers, the TLS listener, then its place
 * in the cluster.
 *
 * @param options - identity and store, plus the cluster and tuning
 * @returns the running node, once it listens and has joined
 * @throws ChatError `LISTEN_FAILED`, `BAD_ARGUMENT` (a limit that is not a
 *   whole number), `SERVICE_UNAVAILABLE` (Redis unreachable at start)
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
  const loginTimeoutMs = options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
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
  const framesPerTurn = whole('frames per turn', options.framesPerTurn, DEFAULT_FRAMES_PER_TURN);
  const handshakesPerTurn = whole(
    'handshakes per turn',
    options.handshakesPerTurn,
    DEFAULT_HANDSHAKES_PER_TURN,
  );
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
  const online = new Map<string, Member>();
  const roster = { count: 0 };
  // Stage 7's batcher, fed by this node's members and the cluster's news;
  // the head count is the cluster's. Its interval grows with *this* room,
  // the writes this node makes per frame.
  const presence = new PresenceNotices(room, presenceLimit, {
    encode: encodeServerFrame,
    maxListed: MAX_LISTED_USERS,
    online: () => roster.count,
  });
  let cluster: ClusterNode;
  // Members hear of a split and a rejoin as a notice: an `error` frame that
  // leaves the connection open, which stage 7's client already shows.
  const tellMembers = (linkState: 'joined' | 'split') => {
    if ((cluster as ClusterNode | undefined) === undefined) return; // still joining
    if (linkState === 'split') {
      const message = 'the room is split: until this server rejoins, only its own members hear you';
      room.broadcast(encodeServerFrame({ type: 'error', code: 'ROOM_SPLIT', message }));
      return;
    }
    // What was said elsewhere meanwhile is not replayed (pub/sub keeps
    // nothing). How much it was shows only as each origin's next message
    // arrives (a jump in its numbers): then `onMissed` tells the count.
    const message = 'the room is whole again; what was said on other servers meanwhile is lost';
    room.broadcast(encodeServerFrame({ type: 'error', code: 'ROOM_REJOINED', message }));
    void cluster.presence.who().then(
      (answer) => (roster.count = answer.count),
      () => {},
    );
  };
  const server = tls.createServer({
    ...tlsServerOptions({
      chainPem: identity.chainPem,
      privateKeyPem: identity.privateKeyPem,
      alpnProtocol: ALPN_PROTOCOL,
      // Derived from the ticket key file: TLS sessions survive a restart,
      // and every node given the same file resumes every node's sessions.
      sessionTicketKeys: tlsSessionTicketKeys(identity.ticketKeys, identity.privateKeyPem),
    }),
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  try {
    cluster = await joinCluster({
      redisUrl: options.redisUrl,
      localCluster: options.localCluster,
      // Signed with a key derived from the ticket key file, which every node
      // of a cluster already shares: Redis carries the room but cannot speak in it.
      busKeys: BusKeys.fromTicketKeys(identity.ticketKeys),
      name: options.nodeName ?? (options.port ? `node-${options.port}` : undefined),
      keyPrefix: options.keyPrefix,
      heartbeatMs: options.heartbeatMs,
      ttlMs: options.sessionTtlMs,
      commandTimeoutMs: options.redisCommandTimeoutMs,
      // A login's permit holds its marker in Redis for longer than a login
      // may take, or a live attempt could lose it (redis-login-permits.ts).
      loginLimits: { ...options.rateLimits, leaseMs: loginTimeoutMs + 15_000 },
      members: {
        broadcast: (frame) => {
          presence.sendPending(); // notices before chat, as on stage 7
          room.broadcast(frame);
        },
        sendTo: (user, frame) => {
          const member = online.get(user);
          if (member === undefined) return false;
          presence.sendPending();
          room.send(member, frame);
          return true;
        },
      },
      onPresence: (event) => {
        roster.count = Math.max(online.size, roster.count + (event.kind === 'join' ? 1 : -1));
        if (event.kind === 'join') presence.joinedElsewhere(event.user);
        else presence.leftElsewhere(event.user);
      },
      onState: (linkState) => tellMembers(linkState),
      // Called just before the message that revealed the gap is delivered:
      // members see the notice where the hole is.
      onMissed: (count) => {
        const message = `${count} ${count === 1 ? 'message' : 'messages'} sent on another server never reached this one: the conversation has a gap here`;
        presence.sendPending();
        room.broadcast(encodeServerFrame({ type: 'error', code: 'MESSAGES_LOST', message }));
      },
      onSessionLost: (user, sessionId, error) => {
        const member = online.get(user);
        if (member?.sessionId === sessionId) member.kick(error);
      },
      // One line per split and per rejoin (the link logs each change once).
      log: (line) => logger.warn({ event: 'cluster' }, line),
    });
  } catch (err) {
    if (ownHasher) await hasher.close();
    throw err;
  }
  roster.count = await cluster.presence.who().then(
    (answer) => answer.count,
    () => 0,
  );
  const state: ServerState = {
    room,
    sockets: new Set(),
    departing: new Set(),
    online,
    cluster,
    roster,
    services: {
      store: options.store,
      hasher,
      permits: attemptPermits(new LoginRateLimiter(options.rateLimits), cluster.loginPermits),
      tickets: new LoginTickets({
        keys: identity.ticketKeys,
        lifetimeMs: options.ticketLifetimeMs,
        now: options.ticketClock,
      }),
      sampler,
    },
    caps,
    loginTimeoutMs,
    errorBudget: options.errorBudget ?? DEFAULT_ERROR_BUDGET,
    messageBudget: options.messageBudget ?? DEFAULT_MESSAGE_BUDGET,
    framesPerTurn,
    tick: 0,
    presence,
    shuttingDown: false,
    logger,
    sampler,
    nextConnectionId: () => ++connections,
    endPolitely,
  };

  const door = openTlsDoor(
    server,
    { caps, sampler, alpnProtocol: ALPN_PROTOCOL, handshakesPerTurn },
    (socket, group) => serveConnection(socket, state, group),
  );

  let address: net.AddressInfo;
  try {
    address = await listen(server, { host, port: options.port ?? 0 });
  } catch (err) {
    await cluster.close().catch(() => {});
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
      node: cluster.nodeId,
      cluster: options.redisUrl === undefined ? 'in-process' : 'redis',
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
    nodeId: cluster.nodeId,
    get clusterState() {
      return cluster.state;
    },
    close() {
      closing ??= (async () => {
        state.shuttingDown = true;
        clearInterval(sweep);
        presence.close(); // everyone is told "bye"; who left no longer matters
        logger.info({ event: 'shutdown', connections: state.sockets.size }, 'shutting down');
        door.closeUnfinished(); // mid-handshake: nothing to say goodbye to yet
        const bye = encodeServerFrame({ type: 'bye', reason: 'server shutting down' });
        for (const member of [...state.departing]) void member.abandonHeld(); // nobody will pace them now
        // Resolves after every connection's own 'close' handling (its session
        // released, its line logged), not just when Node counts none open.
        await closeServerPolitely(server, state.sockets, bye);
        // Last: the sessions are released now, so other nodes see these
        // users leave at once instead of after the TTL.
        await cluster.close().catch(() => {});
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
