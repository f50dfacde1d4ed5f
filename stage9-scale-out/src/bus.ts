/**
 * The bus: how the nodes of one room hand each other frames.
 *
 * A node runs the room for *its own* members, exactly as stage 4's server
 * does for everyone. What it adds is one rule in each direction:
 *
 * - **Out:** after writing a member's frame to its local members, it
 *   publishes the frame *once* on the bus (not once per remote member).
 * - **In:** every node receives what others published and writes it to its
 *   own members (see the relay, which makes that exactly once and in order).
 *
 * Two implementations share this interface: the in-process bus (one process,
 * the default: a fresh clone runs with no server) and the Redis bus (pub/sub
 * over `CHAT_REDIS_URL`: many processes, many machines). The rest of a node
 * cannot tell them apart, which is what lets the same server run alone or as
 * one node of many.
 *
 * Pub/sub, not a durable stream: a message published while a node is cut off
 * is lost *for that node* (the relay counts it, and its members are told
 * how many when the origin's next message shows the gap). Redis Streams would keep history and let a node catch up, at the
 * cost of storing every message and trimming the stream; a chat room that
 * already tells users "you missed N messages" does not need it.
 *
 * @module
 */
import type { BusEnvelope } from './bus-envelope';
import type { PresenceEvent } from './presence';

/** Whether the node is in touch with the rest of the cluster. */
export type LinkState = 'joined' | 'split';

/** Where a directed frame went. */
export type DirectResult =
  /** Published to the node that holds the recipient. */
  | 'sent'
  /** The recipient is not logged in anywhere. */
  | 'offline'
  /** This node is split from the cluster: the frame was not sent. */
  | 'split';

/** What a node does with what arrives from the bus. */
export interface BusListener {
  /**
   * A room envelope (every one published, this node's own included: skip
   * those, your members already have them), or a directed envelope for a
   * member of this node.
   */
  envelope(envelope: BusEnvelope): void;
  /** A user joined or left somewhere in the cluster (this node included). */
  presence(event: PresenceEvent): void;
}

/** One node's end of the bus. */
export interface Bus {
  /** This node's id (`NAME~RANDOM`), the `origin` of everything it publishes. */
  readonly nodeId: string;
  /**
   * Publishes a member's frame for the other nodes' members. Does not wait:
   * publishes leave in call order on one connection, so per-sender order is
   * kept without awaiting each one.
   *
   * @param from - the sending member's username
   * @param frame - the encoded line (ending in `\n`) members will receive
   * @returns `false` if the node is split: nothing crosses until it rejoins
   *   (the frame is still numbered, so receivers count it as missed)
   */
  publishRoom(from: string, frame: Buffer): boolean;
  /**
   * Sends a frame to one user on another node (a key box, an error): looks
   * up which node holds them, and publishes on that node's channel only.
   *
   * @param from - the sending member's username
   * @param to - the recipient's username
   * @param frame - the encoded line (ending in `\n`) the recipient will receive
   */
  sendDirect(from: string, to: string, frame: Buffer): Promise<DirectResult>;
}
