/**
 * Presence and sessions across nodes: who is online, where, and the rule of
 * one session per user for the whole cluster.
 *
 * Stage 6 kept `online` in a `Map` and refused a second login with
 * `ALREADY_LOGGED_IN`. With several nodes, each node's map sees only its own
 * members, so the claim has to live where every node can see it, and be
 * atomic: two nodes checking "is alice online?" at the same moment must not
 * both hear "no". In Redis that is `SET session:alice "NODE SESSION" NX PX ttl`
 * (set only if absent, with an expiry): exactly one node wins.
 *
 * The expiry is what a TTL promises: *if the owner stops refreshing the claim,
 * it disappears by itself.* A node that is killed cannot release its users'
 * sessions, so it must not be the only way they end. Live nodes refresh their
 * claims on every heartbeat; a dead node's run out, and its users can log in
 * elsewhere at once after that.
 *
 * This module is the interface, shared by the in-process and the Redis
 * implementations; `presence-event.ts` has the events' wire format.
 *
 * @module
 */

// A WhoAnswer lists at most the protocol's MAX_LISTED_USERS names, as stage
// 6's `who` does: the count is exact, the list stays small however big the
// room is. The cap is the schema's (messages.ts), so the two cannot drift.

/** A user joined or left, somewhere in the cluster. */
export interface PresenceEvent {
  /** Whether they arrived or went. */
  kind: 'join' | 'leave';
  /** Their username. */
  user: string;
  /** The node their session is (or was) on. */
  node: string;
}

/** The answer to `/who` across every node. */
export interface WhoAnswer {
  /** How many users are logged in on live nodes: exact. */
  count: number;
  /** Up to `MAX_LISTED_USERS` (messages.ts) of them, longest online first. */
  online: string[];
}

/** The cluster's session and presence table, seen from one node. */
export interface Presence {
  /**
   * Claims `user`'s one session for this node. Announces a `join` to every
   * node when it succeeds.
   *
   * @param user - a validated username
   * @param sessionId - this connection's id; only its owner can release it
   * @throws ChatError `ALREADY_LOGGED_IN` if the user holds a session on any
   *   node; `SERVICE_UNAVAILABLE` if the cluster cannot be reached (a session
   *   that cannot be claimed cluster-wide is not granted)
   */
  claim(user: string, sessionId: string): Promise<void>;
  /**
   * Releases a session this node holds (the user logged out or disconnected).
   * Only the owner (`node` + `sessionId`) can release it: a late release from
   * an old connection never ends a newer session. Announces a `leave`.
   *
   * @param user - the username
   * @param sessionId - the id given to {@link claim}
   */
  release(user: string, sessionId: string): Promise<void>;
  /**
   * Who is online on every live node.
   *
   * @throws ChatError `SERVICE_UNAVAILABLE` if the cluster cannot be reached
   */
  who(): Promise<WhoAnswer>;
}
