/**
 * In-process nodes for the cluster tests: each holds some members (recorders,
 * not sockets) and does what a stage 9 server does with a chat frame: write
 * it to its own other members, then publish it once on the bus. Every
 * delivery is recorded in the soak's delivery ledger, which checks
 * exactly-once, per-sender-ordered delivery.
 *
 * Frames are `SENDER SEQ\n`: the bus never looks inside a frame.
 */
import { EventEmitter } from 'node:events';
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { joinCluster, type ClusterNode, type ClusterNodeOptions } from '../src/cluster-node';
import { BusKeys } from '../src/bus-keys';
import type { PresenceEvent } from '../src/presence';

/** The bus keys of every node this test file starts: they are one cluster. */
export const TEST_BUS_KEYS = BusKeys.random();

/** Wakes waiters whenever something was delivered or announced. */
export class Progress extends EventEmitter {
  /** Room frames written to members so far, all nodes together. */
  receipts = 0;

  /**
   * Resolves when `done()` is true, checked now and after every change (the
   * test's timeout bounds the wait: no sleeping, no polling interval).
   */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
    });
  }

  /** Signals a change. */
  changed(): void {
    this.emit('change');
  }
}

/** One in-process node with recorder members. */
export class TestNode {
  /** Members on this node (their session ids). */
  readonly members = new Set<string>();
  /** Presence events from other nodes, in arrival order. */
  readonly events: PresenceEvent[] = [];
  /** Link state changes, in order. */
  readonly states: string[] = [];
  /** Log lines. */
  readonly logs: string[] = [];
  /** Every frame the relay handed this node, in order: `room TEXT` or `direct USER TEXT`. */
  readonly arrivals: string[] = [];
  /** Directed frames received: recipient → frames. */
  readonly direct = new Map<string, string[]>();
  /** Sessions this node was told it lost. */
  readonly lost: string[] = [];
  /** The node's cluster membership (set by {@link TestNode.start}). */
  cluster!: ClusterNode;

  private constructor(
    private readonly ledger: DeliveryLedger,
    private readonly progress: Progress,
  ) {}

  /** Joins a node to the cluster described by `options`. */
  static async start(
    ledger: DeliveryLedger,
    progress: Progress,
    options: Omit<ClusterNodeOptions, 'members'>,
  ): Promise<TestNode> {
    const node = new TestNode(ledger, progress);
    const changed = <T>(list: T[], item: T) => {
      list.push(item);
      progress.changed();
    };
    node.cluster = await joinCluster({
      busKeys: TEST_BUS_KEYS,
      ...options,
      members: {
        broadcast: (frame) => {
          node.arrivals.push(`room ${frame.toString().trimEnd()}`);
          node.deliver(frame);
        },
        sendTo: (user, frame) => {
          if (!node.members.has(user)) return false;
          const text = frame.toString().trimEnd();
          node.arrivals.push(`direct ${user} ${text}`);
          node.direct.set(user, [...(node.direct.get(user) ?? []), text]);
          progress.changed();
          return true;
        },
      },
      onPresence: (event) => changed(node.events, event),
      onState: (state) => changed(node.states, state),
      onSessionLost: (user) => changed(node.lost, user),
      log: (line) => changed(node.logs, line),
    });
    return node;
  }

  /** Adds a member: from now on it is owed every message. */
  join(id: string): void {
    this.members.add(id);
    this.ledger.joined(id);
  }

  /** A member sends its next message: local members get it at once, the others through the bus. */
  send(id: string): boolean {
    const frame = Buffer.from(`${id} ${this.ledger.nextSend(id)}\n`);
    this.deliver(frame, id);
    return this.cluster.bus.publishRoom(id, frame);
  }

  private deliver(frame: Buffer, except?: string): void {
    const [sender, seq] = frame.toString().trimEnd().split(' ');
    for (const member of this.members) {
      if (member === except) continue;
      this.ledger.receipt(member, sender!, Number(seq));
      this.progress.receipts++;
    }
    this.progress.changed();
  }
}
