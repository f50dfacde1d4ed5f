/**
 * The in-process cluster: the bus and presence for nodes that share one
 * process. The default when no `CHAT_REDIS_URL` is set: a fresh clone runs as
 * one node with no server to install.
 *
 * It plays Redis's part faithfully enough that a node cannot tell the
 * difference: frames are encoded into envelopes and decoded again (so the
 * format is exercised), deliveries happen later, not inside the publish call
 * (as over a network), in one global order, and every node, the publisher
 * included, receives each room envelope and presence event. Several nodes can
 * join one `LocalCluster`, which is how the relay is tested without Redis.
 *
 * What it cannot show is what makes scaling out hard: nodes that die alone,
 * a link that drops. Those need separate processes and the Redis bus.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import type { Bus, BusListener, DirectResult } from './bus';
import { decodeEnvelope, encodeEnvelope, type DirectEnvelope } from './bus-envelope';
import { BusKeys } from './bus-keys';
import { makeNodeId } from './cluster-keys';
import type { Presence, PresenceEvent, WhoAnswer } from './presence';
import { encodePresenceEvent, PresenceEventReader } from './presence-event';
import { MAX_LISTED_USERS } from './messages';

/** One node of a {@link LocalCluster}: its bus, its presence, and how to leave. */
export interface LocalNode {
  /** The node's end of the bus. */
  readonly bus: Bus;
  /** The cluster's sessions, seen from this node. */
  readonly presence: Presence;
  /** Leaves the cluster: this node's sessions are released (with `leave` events). */
  close(): void;
}

interface Session {
  node: string;
  sessionId: string;
}

type Delivery = { node: string; bytes: Buffer } | { node: string; event: Buffer };

/** Nodes in one process, sharing one room. */
export class LocalCluster {
  // Username → its session. A Map keeps insertion order: longest online first.
  private readonly sessions = new Map<string, Session>();
  private readonly listeners = new Map<string, BusListener>();
  // Each node reads events with its own memory of those it has heard.
  private readonly readers = new Map<string, PresenceEventReader>();
  private readonly queue: Delivery[] = [];
  private scheduled = false;
  // Every node here is in this process: a key of its own, never on disk.
  private readonly busKeys = BusKeys.random();

  /**
   * Adds a node.
   *
   * @param listener - receives what the bus brings this node
   * @param nodeId - its id; default a fresh one
   */
  join(listener: BusListener, nodeId: string = makeNodeId('local')): LocalNode {
    this.listeners.set(nodeId, listener);
    this.readers.set(nodeId, new PresenceEventReader(this.busKeys));
    let roomSeq = 0;
    let directSeq = 0;
    const bus: Bus = {
      nodeId,
      publishRoom: (from, frame) => {
        const bytes = encodeEnvelope(
          { kind: 'room', origin: nodeId, seq: ++roomSeq, from, frame },
          this.busKeys,
          Date.now(), // one process, one clock
        );
        for (const node of this.listeners.keys()) this.enqueue({ node, bytes });
        return true;
      },
      sendDirect: async (from, to, frame): Promise<DirectResult> => {
        const session = this.sessions.get(to);
        if (session === undefined) return 'offline';
        const envelope: DirectEnvelope = {
          kind: 'direct',
          origin: nodeId,
          seq: ++directSeq,
          from,
          to,
          frame,
        };
        this.enqueue({
          node: session.node,
          bytes: encodeEnvelope(envelope, this.busKeys, Date.now()),
        });
        return 'sent';
      },
    };
    const presence: Presence = {
      claim: async (user, sessionId) => {
        if (this.sessions.has(user)) {
          throw new ChatError('ALREADY_LOGGED_IN', `${user} is already logged in`);
        }
        this.sessions.set(user, { node: nodeId, sessionId });
        this.announce({ kind: 'join', user, node: nodeId });
      },
      release: async (user, sessionId) => this.release(user, nodeId, sessionId),
      who: async (): Promise<WhoAnswer> => {
        const online: string[] = [];
        for (const user of this.sessions.keys()) {
          if (online.push(user) === MAX_LISTED_USERS) break;
        }
        return { count: this.sessions.size, online };
      },
    };
    return {
      bus,
      presence,
      close: () => {
        for (const [user, session] of [...this.sessions]) {
          if (session.node === nodeId) this.release(user, nodeId, session.sessionId);
        }
        this.listeners.delete(nodeId);
        this.readers.delete(nodeId);
      },
    };
  }

  private release(user: string, node: string, sessionId: string): void {
    const session = this.sessions.get(user);
    if (session?.node !== node || session.sessionId !== sessionId) return;
    this.sessions.delete(user);
    this.announce({ kind: 'leave', user, node });
  }

  private announce(event: PresenceEvent): void {
    const line = Buffer.from(encodePresenceEvent(event, this.busKeys, Date.now()), 'latin1');
    for (const node of this.listeners.keys()) this.enqueue({ node, event: line });
  }

  private enqueue(delivery: Delivery): void {
    this.queue.push(delivery);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  // One global order, as one Redis server gives: first queued, first delivered.
  private deliver(): void {
    this.scheduled = false;
    for (const delivery of this.queue.splice(0)) {
      const listener = this.listeners.get(delivery.node);
      if (listener === undefined) continue; // the node left meanwhile
      // A refusal (an envelope that waited over a minute behind a stalled
      // event loop) drops that one delivery, as a Redis node would; thrown
      // from here it would end the process.
      try {
        if ('bytes' in delivery) listener.envelope(decodeEnvelope(delivery.bytes, this.busKeys));
        else listener.presence(this.readers.get(delivery.node)!.read(delivery.event, Date.now()));
      } catch {
        continue;
      }
    }
  }
}
