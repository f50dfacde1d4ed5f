/**
 * A node's membership in the cluster, in one call: the bus, presence, the
 * relay and (with Redis) the shared login limits, wired together.
 *
 * This is what a stage 9 server uses. It keeps its room exactly as before
 * (stage 4's `Room`, its own members only) and adds four calls:
 *
 * ```ts
 * const cluster = await joinCluster({ redisUrl: process.env.CHAT_REDIS_URL, members, … });
 * await cluster.presence.claim(username, sessionId);  // at login, instead of the online Map
 * room.broadcast(frame, sender); cluster.bus.publishRoom(username, frame);  // each chat frame
 * await cluster.presence.release(username, sessionId); // at logout or disconnect
 * ```
 *
 * With no `redisUrl` the node runs on an in-process cluster: one node, the
 * same interface, nothing to install.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import type { Bus, BusListener, LinkState } from './bus';
import type { BusKeys } from './bus-keys';
import { clusterKeys, DEFAULT_KEY_PREFIX, makeNodeId } from './cluster-keys';
import type { InboundQueueLimits } from './inbound-queue';
import { LocalCluster } from './local-cluster';
import type { Presence, PresenceEvent } from './presence';
import { RedisBus } from './redis-bus';
import { RedisClock } from './redis-clock';
import { RedisLink } from './redis-link';
import {
  RedisLoginPermits,
  type LoginPermits,
  type RedisLoginPermitsOptions,
} from './redis-login-permits';
import { RedisPresence } from './redis-presence';
import { Relay, type LocalMembers } from './relay';

/** Options for {@link joinCluster}. */
export interface ClusterNodeOptions {
  /** `CHAT_REDIS_URL`; absent: an in-process cluster. */
  redisUrl?: string;
  /**
   * The keys every node signs and checks envelopes with
   * (`BusKeys.fromTicketKeys`); required with `redisUrl`.
   */
  busKeys?: BusKeys;
  /** The in-process cluster to join when there is no `redisUrl` (tests share one). */
  localCluster?: LocalCluster;
  /** A readable node name (the id adds a random suffix). Default: the host name. */
  name?: string;
  /** Prefix of every Redis key and channel. Default `chat:`. */
  keyPrefix?: string;
  /** This node's members: where frames from other nodes are written. */
  members: LocalMembers;
  /** A user joined or left on *another* node: tell the local members. */
  onPresence?: (event: PresenceEvent) => void;
  /**
   * Room messages from another node never arrived (a jump in its numbers,
   * after a split on either side): tell the local members there is a gap.
   */
  onMissed?: (count: number) => void;
  /** The node split from the cluster, or rejoined it: tell the local members. */
  onState?: (state: LinkState, detail: string) => void;
  /**
   * A session here was taken over by a login elsewhere during a split: end
   * that connection, telling the client `error` (`LOGGED_IN_ELSEWHERE`: the
   * user now is, on another connection).
   */
  onSessionLost?: (user: string, sessionId: string, error: ChatError) => void;
  /** One line per cluster event (split, rejoin, refused message); no message text. */
  log?: (line: string) => void;
  /** Heartbeat period in ms. Default 2 s. */
  heartbeatMs?: number;
  /** Session and node TTL in ms. Default three heartbeats. */
  ttlMs?: number;
  /** Redis command timeout in ms. Default 5 s. */
  commandTimeoutMs?: number;
  /** Longest frame accepted from the bus. Default 64 KiB. */
  maxFrameBytes?: number;
  /** Caps of the inbound queue. */
  inbound?: InboundQueueLimits;
  /** The shared login buckets' sizes (Redis only). Default stage 6's. */
  loginLimits?: RedisLoginPermitsOptions;
}

/** A node, joined to the cluster. */
export interface ClusterNode {
  /** This node's id, `NAME~RANDOM`. */
  readonly nodeId: string;
  /** *joined*, or *split* (cut off from the other nodes, serving its own members). */
  readonly state: LinkState;
  /** Publishes room frames and sends directed ones. */
  readonly bus: Bus;
  /** Sessions, `/who`, join and leave. */
  readonly presence: Presence;
  /**
   * Delivers what the bus brings; `relay.missed` counts room messages lost in
   * splits (each loss is also logged).
   */
  readonly relay: Relay;
  /**
   * Login limits shared by every node (Redis only). Undefined on an
   * in-process cluster: use stage 6's in-process limiter there.
   */
  readonly loginPermits: LoginPermits | undefined;
  /** Releases this node's sessions (others see its users leave now) and disconnects. */
  close(): Promise<void>;
}

/**
 * Joins the cluster: Redis when `redisUrl` is given, else in-process.
 *
 * @param options - where, who, and the callbacks
 * @throws ChatError `SERVICE_UNAVAILABLE` if Redis cannot be reached at start
 */
export async function joinCluster(options: ClusterNodeOptions): Promise<ClusterNode> {
  const nodeId = makeNodeId(options.name);
  // A jump in an origin's numbers is a loss nobody else sees: the log says
  // so, and so do the members, or they would never know of the gap.
  const relay = new Relay(nodeId, options.members, undefined, (origin, lost) => {
    options.log?.(
      `lost ${lost} room message(s) from ${origin} (a split, or this node fell behind)`,
    );
    options.onMissed?.(lost);
  });
  const listener: BusListener = {
    envelope: (envelope) => void relay.receive(envelope),
    // The node announced its own members' arrivals itself, at once.
    presence: (event) => {
      if (event.node !== nodeId) options.onPresence?.(event);
    },
  };

  if (options.redisUrl === undefined) {
    const local = (options.localCluster ?? new LocalCluster()).join(listener, nodeId);
    return {
      nodeId,
      state: 'joined',
      bus: local.bus,
      presence: local.presence,
      relay,
      loginPermits: undefined,
      close: async () => local.close(),
    };
  }

  if (options.busKeys === undefined) throw new Error('joinCluster: a Redis cluster needs busKeys');
  const keys = clusterKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const link = new RedisLink({
    url: options.redisUrl,
    nodeId,
    log: options.log,
    heartbeatMs: options.heartbeatMs,
    commandTimeoutMs: options.commandTimeoutMs,
    inbound: options.inbound,
  });
  // Envelopes and presence events are stamped and checked by Redis's clock:
  // asked for on joining (before the channels are subscribed, so before
  // anything arrives or is published) and on every heartbeat, ahead of the
  // other hooks.
  const clock = new RedisClock();
  const sync = () => clock.sync(link.cmd);
  link.addHooks({ subscribing: sync, beat: sync });
  const bus = new RedisBus(link, keys, nodeId, listener, {
    busKeys: options.busKeys,
    clock,
    maxFrameBytes: options.maxFrameBytes,
    log: options.log,
  });
  const presence = new RedisPresence(link, keys, nodeId, {
    busKeys: options.busKeys,
    clock,
    heartbeatMs: options.heartbeatMs,
    ttlMs: options.ttlMs,
    onSessionLost: (user, sessionId) => {
      const message = `${user} logged in on another node while this one was cut off`;
      options.onSessionLost?.(user, sessionId, new ChatError('LOGGED_IN_ELSEWHERE', message));
    },
  });
  const loginPermits = new RedisLoginPermits(link.cmd, keys, options.loginLimits);
  // A login settled while Redis was away is sent again once it is back;
  // one that fails again waits for the next beat, and never fails a rejoin
  // (at worst it delays it by one command timeout).
  const settle = () => loginPermits.settlePending().catch(() => {});
  link.addHooks({ rejoin: settle, beat: settle });
  if (options.onState !== undefined) link.onState(options.onState);
  await link.start();
  return {
    nodeId,
    get state() {
      return link.state;
    },
    bus,
    presence,
    relay,
    loginPermits,
    close: async () => {
      await presence.leave();
      await link.close();
      bus.close();
    },
  };
}
