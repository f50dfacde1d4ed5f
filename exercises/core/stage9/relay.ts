/**
 * Exercise "write the core": the cross-node relay.
 *
 * Every node subscribes to the room and hands each envelope that arrives to
 * `receive`. Write it so that this node's members get every frame from the
 * other nodes exactly once, in each sender's order:
 *
 * 1. An envelope this node published itself (`origin === nodeId`) comes back
 *    from Redis: its members already have it. Return `'own'`.
 * 2. Each origin numbers its room envelopes 1, 2, 3… and its directed ones
 *    on a second counter. Keep, per (kind, origin), the highest `seq`
 *    accepted so far. An envelope whose `seq` is not higher is a repeat (a
 *    resent publish) or a straggler: return `'repeat'`, and keep the value
 *    as it was (a refused envelope changes nothing). A higher one is
 *    accepted: its `seq` becomes the value kept, even if it turns out to be
 *    a directed envelope whose recipient has left (rule 3).
 * 3. A room envelope goes to every member here (`members.broadcast`); a
 *    directed one to its recipient (`members.sendTo(envelope.to, …)`), which
 *    may have left: then return `'no-recipient'`. Otherwise `'delivered'`.
 * 4. Count in `missed` the room envelopes skipped by a jump (5 after 2
 *    misses 2). A first envelope from an origin is not a jump: the node was
 *    not listening before (and a restarted node has a new origin id).
 *
 * Check it with `npm run exercise -- stage9/core`: the checks wire your
 * relay into three in-process nodes. The stage's own answer is in
 * `stage9-scale-out/src/relay.ts`; try before you read it.
 *
 * @module
 */
import type { BusEnvelope } from '../../../stage9-scale-out/src/bus-envelope';
import type { LocalMembers, RelayOutcome } from '../../../stage9-scale-out/src/relay';

/** Delivers envelopes from the bus to this node's members (your version). */
export class Relay {
  /** Room messages known lost: the sum of every jump in an origin's numbering. */
  missed = 0;

  /**
   * @param nodeId - this node's id: envelopes from it are skipped
   * @param members - where delivered frames are written
   */
  constructor(
    readonly nodeId: string,
    private readonly members: LocalMembers,
  ) {}

  /**
   * Applies the rules above to one envelope.
   *
   * @param envelope - a validated envelope from the bus
   */
  receive(envelope: BusEnvelope): RelayOutcome {
    // The minimal node's relay: everything to everyone. Replace it.
    this.members.broadcast(envelope.frame);
    return 'delivered';
  }
}
