/**
 * The relay: what a node does with each envelope the bus brings, so that its
 * members get every frame from other nodes exactly once, in each sender's
 * order.
 *
 * The whole of it is one rule per envelope:
 *
 * 1. **Own origin: skip.** The Redis bus delivers a node's own publications
 *    back to it; its members already got those frames locally.
 * 2. **Not newer: drop.** Each origin numbers its room envelopes 1, 2, 3…
 *    (and its directed ones on a second counter). The relay remembers the
 *    last number it delivered per (kind, origin) and delivers an envelope only
 *    if its number is higher. A repeat (a publish the Redis client resent
 *    after a reconnect, a node subscribed twice during a migration, a replay
 *    from a stream) or a straggler is dropped.
 * 3. **Deliver:** a room envelope to every local member; a directed one to
 *    its recipient if they are here (they may have just left).
 *
 * Why "higher than the last" is enough: one origin publishes on one Redis
 * connection, and Redis executes a connection's commands in order and writes
 * each subscriber's messages in order, so a node sees an origin's envelopes
 * in its numbering order. Anything else is a repeat.
 *
 * A jump in room numbers (5 after 2) means messages were lost (the node was
 * cut off, or fell behind): they are counted in {@link Relay.missed}, and
 * each jump is reported (`onMissed`), so that a loss is never silent: the
 * node logs it and tells its members, just before the message that showed it. A jump from a *new* origin is not a loss: the
 * node simply was not listening before (and a restarted node is a new origin:
 * its id changes every run, so its 1, 2, 3… are never mistaken for repeats).
 *
 * Memory is bounded: at most `maxOrigins` origins are remembered, the least
 * recently heard forgotten first (origins are node *runs*, so old ones are
 * dead nodes).
 *
 * @module
 */
import type { BusEnvelope } from './bus-envelope';

/** Where a node's members are: how the relay hands them frames. */
export interface LocalMembers {
  /**
   * Writes a frame to every member on this node (stage 4's `Room.broadcast`,
   * which cuts off a member whose queue passes its cap).
   */
  broadcast(frame: Buffer): void;
  /**
   * Writes a frame to one user's session on this node.
   *
   * @returns `false` if that user has no session here
   */
  sendTo(user: string, frame: Buffer): boolean;
}

/** What the relay did with one envelope. */
export type RelayOutcome =
  /** Written to the local member(s). */
  | 'delivered'
  /** Published by this node: its members already have it. */
  | 'own'
  /** Not newer than the last one delivered from its origin: dropped. */
  | 'repeat'
  /** A directed frame whose recipient has no session here. */
  | 'no-recipient';

/** Origins remembered when no other bound is given. */
export const DEFAULT_MAX_ORIGINS = 1024;

/**
 * Delivers envelopes from the bus to this node's members, exactly once each,
 * in each origin's order.
 *
 * @example
 * ```ts
 * const relay = new Relay(bus.nodeId, { broadcast: (f) => room.broadcast(f), sendTo });
 * // the bus listener:
 * envelope: (e) => relay.receive(e),
 * ```
 */
export class Relay {
  /** Room messages known lost: the sum of every jump in an origin's numbering. */
  missed = 0;
  // `${kind} ${origin}` → last number delivered. A Map iterates in insertion
  // order, so re-inserting on every hit keeps the least recently heard first.
  private readonly last = new Map<string, number>();

  /**
   * @param nodeId - this node's id: envelopes from it are skipped
   * @param members - where delivered frames are written
   * @param maxOrigins - most (kind, origin) numbering states kept
   * @param onMissed - called for each jump: the origin, and how many room messages it lost
   */
  constructor(
    readonly nodeId: string,
    private readonly members: LocalMembers,
    private readonly maxOrigins = DEFAULT_MAX_ORIGINS,
    private readonly onMissed?: (origin: string, count: number) => void,
  ) {}

  /**
   * Applies the rule in the module comment to one envelope.
   *
   * @param envelope - a validated envelope from the bus
   * @returns what was done with it
   */
  receive(envelope: BusEnvelope): RelayOutcome {
    if (envelope.origin === this.nodeId) return 'own';
    const stream = `${envelope.kind} ${envelope.origin}`;
    const last = this.last.get(stream);
    if (last !== undefined && envelope.seq <= last) return 'repeat';
    if (last !== undefined && envelope.kind === 'room' && envelope.seq > last + 1) {
      const lost = envelope.seq - last - 1;
      this.missed += lost;
      this.onMissed?.(envelope.origin, lost);
    }
    this.remember(stream, envelope.seq);
    if (envelope.kind === 'room') {
      this.members.broadcast(envelope.frame);
      return 'delivered';
    }
    return this.members.sendTo(envelope.to, envelope.frame) ? 'delivered' : 'no-recipient';
  }

  private remember(stream: string, seq: number): void {
    this.last.delete(stream);
    this.last.set(stream, seq);
    if (this.last.size > this.maxOrigins) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
  }
}
