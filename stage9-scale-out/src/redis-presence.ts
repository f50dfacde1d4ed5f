/**
 * Presence and sessions in Redis: the claim, the heartbeat that keeps it
 * alive, and the clean-up after a node that died.
 *
 * Timing (defaults; `heartbeatMs` and `ttlMs` change them):
 *
 * | what                                   | how long                           |
 * | -------------------------------------- | ---------------------------------- |
 * | heartbeat period H                     | 2 s                                |
 * | session and node TTL T                 | 6 s (three heartbeats)             |
 * | a killed node's users can log in again | within T of its last heartbeat     |
 * | other nodes see its users leave        | within T + H (the next reaper run) |
 *
 * T is three heartbeats so that one slow heartbeat (a garbage-collection
 * pause, a busy Redis) is not taken for a death. A shorter T finds dead nodes
 * sooner and mistakes slow ones for dead more often; a node that was
 * mistaken simply re-registers on its next heartbeat (its users are seen to
 * leave and come back), unless a user logged in elsewhere meanwhile: that
 * session is then *lost* here, and the server ends it.
 *
 * A session released while the node was cut off cannot reach Redis; it is
 * kept and released on the next heartbeat that gets through, so it does not
 * linger in `/who`.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import type { ClusterKeys } from './cluster-keys';
import type { BusKeys } from './bus-keys';
import type { Presence, PresenceEvent, WhoAnswer } from './presence';
import { encodePresenceEvent } from './presence-event';
import { MAX_LISTED_USERS } from './messages';
import { CLAIM, DEAD_NODE, HEARTBEAT, REAP, RELEASE, WHO } from './presence-scripts';
import type { RedisClock } from './redis-clock';
import { DEFAULT_HEARTBEAT_MS, type RedisLink } from './redis-link';

/** Sessions refreshed per heartbeat script call: a bounded pause for Redis. */
const HEARTBEAT_BATCH = 500;
/** Dead node's users cleared per reap script call. */
const REAP_BATCH = 500;
/** Reap calls per heartbeat at most: the rest waits for the next one. */
const MAX_REAPS_PER_BEAT = 50;
/**
 * How long a reaped node's mark lasts: if it comes back within a day, its
 * users (announced as leaving) are announced again. A node cut off for longer
 * takes them back quietly.
 */
const REAPED_MARK_TTL_MS = 24 * 60 * 60 * 1000;

/** What a session id looks like: it is part of a Redis value, so no spaces. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Options for {@link RedisPresence}. */
export interface RedisPresenceOptions {
  /** The cluster's keys: every event this node passes to a script is signed with them. */
  busKeys: BusKeys;
  /** The cluster's clock, for the events' times (kept in step by the node). */
  clock: RedisClock;
  /** Session and node TTL in ms. Default three heartbeats. */
  ttlMs?: number;
  /** The link's heartbeat period (to derive the default TTL). */
  heartbeatMs?: number;
  /**
   * Called when a session this node holds was taken by a login elsewhere
   * (this node was cut off for longer than the TTL): end that connection.
   */
  onSessionLost?: (user: string, sessionId: string) => void;
}

/** The cluster's presence table in Redis, seen from one node. */
export class RedisPresence implements Presence {
  /** Session TTL in ms (also how long a dead node stays listed). */
  readonly ttlMs: number;
  // The sessions this node holds: user → session id. The heartbeat refreshes these.
  private readonly sessions = new Map<string, string>();
  // Releases that could not reach Redis; retried on every heartbeat.
  private readonly pendingReleases = new Map<string, string>();
  private readonly onSessionLost: (user: string, sessionId: string) => void;
  private readonly busKeys: BusKeys;
  private readonly clock: RedisClock;

  /**
   * Attaches to `link`: the heartbeat refreshes this node's sessions and
   * reaps dead nodes; a rejoin re-registers every session.
   *
   * @param link - the connections to Redis
   * @param keys - the cluster's names
   * @param nodeId - this node's id
   * @param options - the signing keys and clock, the TTL and the lost-session callback
   */
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    options: RedisPresenceOptions,
  ) {
    this.busKeys = options.busKeys;
    this.clock = options.clock;
    this.ttlMs = options.ttlMs ?? 3 * (options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.onSessionLost = options.onSessionLost ?? (() => {});
    link.addHooks({
      rejoin: () => this.refresh(),
      beat: async () => {
        await this.refresh();
        // Another node's leftovers that Redis refuses to clear (a key of
        // the wrong type, say) are reported, but are no split of ours: the
        // rejoin does not reap, and would succeed at once, every other beat.
        await this.reap().catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          throw new Error(`reaping dead nodes: ${message}`, { cause: err });
        });
      },
    });
  }

  /** Claims the user's one session (see {@link Presence.claim}) with the `claim` script. */
  async claim(user: string, sessionId: string): Promise<void> {
    if (!SESSION_ID_PATTERN.test(sessionId)) throw new Error(`bad session id ${sessionId}`);
    if (this.link.state !== 'joined') throw unavailable();
    // A claim that fails may still have run: a timeout says only that the
    // answer did not come in time. Left alone, its session would run out,
    // but the user would stay on this node's list (counted by /who) and the
    // room would have heard them join and never leave. So it is released on
    // the next heartbeat, which does nothing if the claim never ran.
    const claimed = await this.run(
      () =>
        CLAIM.run(
          this.link.cmd,
          [this.keys.session(user), this.keys.members(this.nodeId)],
          [
            this.owner(sessionId),
            this.ttlMs,
            user,
            this.keys.presenceChannel,
            this.event('join', user),
            3 * this.ttlMs,
          ],
        ),
      () => this.pendingReleases.set(user, sessionId),
    );
    if (claimed !== 1) {
      throw new ChatError(
        'ALREADY_LOGGED_IN',
        `${user} is already logged in on another connection`,
      );
    }
    this.sessions.set(user, sessionId);
  }

  /** Releases a session (see {@link Presence.release}); retried on the next heartbeat if Redis is away. */
  async release(user: string, sessionId: string): Promise<void> {
    // Off the local list first, so no heartbeat sent from now on renews it.
    if (this.sessions.get(user) === sessionId) this.sessions.delete(user);
    try {
      await this.sendRelease(user, sessionId);
    } catch {
      this.pendingReleases.set(user, sessionId);
    }
  }

  /** Who is online on every live node (see {@link Presence.who}), by the `who` script. */
  async who(): Promise<WhoAnswer> {
    const reply = await this.run(() =>
      WHO.run(this.link.cmd, [this.keys.nodes], [this.keys.prefix, MAX_LISTED_USERS]),
    );
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new ChatError('SERVICE_UNAVAILABLE', 'unexpected answer to who');
    }
    return { count: reply[0], online: reply.slice(1).map(String) };
  }

  /**
   * A clean shutdown: releases every session this node holds (the other
   * nodes see its users leave now, not after the TTL) and takes the node off
   * the list of live nodes. Best effort: if Redis is unreachable, the TTLs
   * clear up instead.
   */
  async leave(): Promise<void> {
    await Promise.all([...this.sessions].map(([user, sessionId]) => this.release(user, sessionId)));
    await this.link.cmd.zrem(this.keys.nodes, this.nodeId).catch(() => {});
  }

  /** How many sessions this node holds (for tests and metrics). */
  get localSessions(): number {
    return this.sessions.size;
  }

  // The heartbeat: retry releases that failed, then refresh every session,
  // all batches sent at once (a release issued after this point is queued
  // behind them on the same connection, so it cannot be undone by them).
  private async refresh(): Promise<void> {
    for (const [user, sessionId] of [...this.pendingReleases]) {
      await this.sendRelease(user, sessionId);
      this.pendingReleases.delete(user);
    }
    let held = [...this.sessions];
    // Quiet first; again with signed joins if a reap announced the users gone.
    let lost = await this.heartbeat(held, false);
    if (lost === undefined) {
      // The sessions as they are now: one released meanwhile is not taken back.
      held = [...this.sessions];
      lost = (await this.heartbeat(held, true)) ?? [];
    }
    const sent = new Map(held);
    for (const user of lost) {
      // Only the session the heartbeat was about: not a newer one since.
      const sessionId = sent.get(user);
      if (sessionId === undefined || this.sessions.get(user) !== sessionId) continue;
      this.sessions.delete(user);
      this.onSessionLost(user, sessionId);
    }
  }

  // Sends the heartbeat script for every batch of `held`; `announce` adds a
  // signed join for each session. Returns the users whose session was lost,
  // or undefined if a quiet batch found the node reaped (see HEARTBEAT).
  private async heartbeat(
    held: [string, string][],
    announce: boolean,
  ): Promise<string[] | undefined> {
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i === 0 || i < held.length; i += HEARTBEAT_BATCH) {
      const batch = held.slice(i, i + HEARTBEAT_BATCH);
      const last = i + HEARTBEAT_BATCH >= held.length;
      batches.push(
        HEARTBEAT.run(
          this.link.cmd,
          [
            this.keys.nodes,
            this.keys.members(this.nodeId),
            this.keys.reaped(this.nodeId),
            ...batch.map(([u]) => this.keys.session(u)),
          ],
          [
            this.nodeId,
            this.ttlMs,
            3 * this.ttlMs,
            this.keys.presenceChannel,
            announce ? (last ? 'last' : 'announce') : 'quiet',
            ...batch.flatMap(([user, sessionId]) => [
              this.owner(sessionId),
              user,
              ...(announce ? [this.event('join', user)] : []),
            ]),
          ],
        ),
      );
    }
    const replies = await Promise.all(batches);
    if (replies.some((reply) => reply === -1)) return undefined;
    return replies.flatMap((reply) => (Array.isArray(reply) ? reply.map(String) : []));
  }

  // Clears up dead nodes: find one and a batch of its users, sign a leave
  // for each, and hand them to the script that clears them.
  private async reap(): Promise<void> {
    for (let i = 0; i < MAX_REAPS_PER_BEAT; i++) {
      const found = await DEAD_NODE.run(
        this.link.cmd,
        [this.keys.nodes],
        [this.keys.prefix, REAP_BATCH],
      );
      if (!Array.isArray(found)) return; // no dead node
      const [node, ...users] = found.map(String);
      if (users.length === 0) continue; // it had nobody left: struck off
      await REAP.run(
        this.link.cmd,
        [this.keys.nodes],
        [
          this.keys.prefix,
          this.keys.presenceChannel,
          node!,
          REAPED_MARK_TTL_MS,
          ...users.flatMap((user) => [user, this.event('leave', user, node)]),
        ],
      );
    }
  }

  private sendRelease(user: string, sessionId: string): Promise<unknown> {
    return RELEASE.run(
      this.link.cmd,
      [this.keys.session(user), this.keys.members(this.nodeId)],
      [this.owner(sessionId), user, this.keys.presenceChannel, this.event('leave', user)],
    );
  }

  private owner(sessionId: string): string {
    return `${this.nodeId} ${sessionId}`;
  }

  // A signed event, by the cluster's clock, for a script to publish.
  private event(kind: PresenceEvent['kind'], user: string, node = this.nodeId): string {
    return encodePresenceEvent({ kind, user, node }, this.busKeys, this.clock.now());
  }

  private async run<T>(step: () => Promise<T>, onFailure?: () => void): Promise<T> {
    try {
      return await step();
    } catch {
      onFailure?.();
      throw unavailable();
    }
  }
}

function unavailable(): ChatError {
  return new ChatError(
    'SERVICE_UNAVAILABLE',
    'the cluster cannot be reached (the room is split); try again shortly',
  );
}
