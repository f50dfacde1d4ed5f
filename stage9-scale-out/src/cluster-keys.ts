/**
 * Names: node ids, and every Redis key and channel the cluster uses.
 *
 * All of a cluster's state in Redis lives under one prefix (default `chat:`),
 * so two clusters (or two test runs) can share a Redis server without seeing
 * each other, and one `SCAN MATCH prefix*` finds everything to clean up.
 * Every name is built here and nowhere else: a typo in a key name would
 * otherwise be a silent split-brain (two nodes reading different keys).
 *
 * | name                              | type    | holds                                              |
 * | --------------------------------- | ------- | -------------------------------------------------- |
 * | `room` (channel)                  | pub/sub | room frames, published once by the sender's node   |
 * | `node:ID` (channel)               | pub/sub | directed frames for the members of node ID         |
 * | `presence` (channel)              | pub/sub | join and leave events, published by Lua scripts    |
 * | `nodes`                           | zset    | node id → when its heartbeat runs out (ms)         |
 * | `members:ID`                      | zset    | username → when it joined on node ID (ms)          |
 * | `session:USER`                    | string  | `NODE SESSION`: who holds USER's one session       |
 * | `reaped:ID`                       | string  | node ID was cleared up as dead (its users left)    |
 * | `login:ip:IP`, `login:user:USER`, | hash    | token buckets of the login limits                  |
 * | `login:user-ip:USER@IP`           |         |                                                    |
 * | `login:known:USER`                | zset    | IPs that logged in as USER → when (ms)             |
 * | `login:busy:USER@IP`              | string  | the one login attempt in flight for (USER, IP)     |
 *
 * Usernames (`A-Z a-z 0-9 _ . -`) and node ids (the same plus `~`) cannot
 * contain `:`, `@` or a space, so no two different names build the same key.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';

/** The prefix of every key and channel when none is configured. */
export const DEFAULT_KEY_PREFIX = 'chat:';

/** What a node id looks like: a readable name, `~`, and random hex unique to this run. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,40}~[0-9a-f]{8}$/;

/**
 * A fresh node id: `NAME~RANDOM`. The random part is new every time a node
 * starts, so a restarted node is a new *incarnation* with its own message
 * numbering: its first message (number 1) is not mistaken for a repeat of the
 * old incarnation's number 1, and its presence is not confused with the dead
 * one's.
 *
 * @param name - a readable name (e.g. `node-5051`); characters outside
 *   `A-Z a-z 0-9 _ . -` are replaced by `-`. Default: the host name.
 *
 * @example
 * ```ts
 * makeNodeId('node-5051'); //=> 'node-5051~9f86d081'
 * ```
 */
export function makeNodeId(name: string = os.hostname()): string {
  const readable = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40) || 'node';
  return `${readable}~${randomBytes(4).toString('hex')}`;
}

/** Every key and channel name of one cluster, built from its prefix. */
export interface ClusterKeys {
  /** The prefix itself (for cleanup: `SCAN MATCH prefix*`). */
  readonly prefix: string;
  /** The room's channel. */
  readonly roomChannel: string;
  /** The channel of join and leave events. */
  readonly presenceChannel: string;
  /** The zset of live nodes, scored by heartbeat expiry. */
  readonly nodes: string;
  /** The channel a node listens on for frames directed to its members. */
  nodeChannel(nodeId: string): string;
  /** The zset of one node's members. */
  members(nodeId: string): string;
  /** The mark that node ID was reaped (the `reap` script builds it from the prefix too). */
  reaped(nodeId: string): string;
  /** The key holding one user's session claim. */
  session(username: string): string;
  /** The login-limit bucket for one IP. */
  loginIp(ip: string): string;
  /** The login-limit bucket for one (user, IP) pair. */
  loginUserIp(username: string, ip: string): string;
  /** The login-limit bucket for one user, from unknown IPs. */
  loginUser(username: string): string;
  /** The zset of IPs known to have logged in as one user. */
  loginKnown(username: string): string;
  /** The marker of the login attempt in flight for one (user, IP) pair. */
  loginBusy(username: string, ip: string): string;
}

/**
 * Builds the names of one cluster.
 *
 * @param prefix - prepended to every name; tests use a fresh one per run
 *
 * @example
 * ```ts
 * clusterKeys('chat:').session('alice'); //=> 'chat:session:alice'
 * ```
 */
export function clusterKeys(prefix: string = DEFAULT_KEY_PREFIX): ClusterKeys {
  return {
    prefix,
    roomChannel: `${prefix}room`,
    presenceChannel: `${prefix}presence`,
    nodes: `${prefix}nodes`,
    nodeChannel: (nodeId) => `${prefix}node:${nodeId}`,
    members: (nodeId) => `${prefix}members:${nodeId}`,
    reaped: (nodeId) => `${prefix}reaped:${nodeId}`,
    session: (username) => `${prefix}session:${username}`,
    loginIp: (ip) => `${prefix}login:ip:${ip}`,
    loginUserIp: (username, ip) => `${prefix}login:user-ip:${username}@${ip}`,
    loginUser: (username) => `${prefix}login:user:${username}`,
    loginKnown: (username) => `${prefix}login:known:${username}`,
    loginBusy: (username, ip) => `${prefix}login:busy:${username}@${ip}`,
  };
}
