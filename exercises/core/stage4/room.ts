// Write the core of stage 4: the room's broadcast, with a cap on each
// member's send queue.
//
//   npm run exercise -- stage4/core     checks this file with real sockets
//
// socket.write() never blocks. When a member stops reading, its bytes pile up
// in the server's memory (socket.writableLength), and write() returns false
// once that queue passes 16 KiB. Two tempting answers are both wrong: waiting
// for 'drain' before writing to the next member lets one stuck member freeze
// the whole room; ignoring the queue lets it grow until the server runs out
// of memory.
//
// The task: write send() and broadcast() below (the rest is given).
// 1. send(member, frame) writes the frame to the member's socket and returns
//    true. A socket that can no longer take bytes (destroyed, or ended) is
//    not written to: return false.
// 2. After writing, if the member's queue has passed maxQueueBytes, drop the
//    member: socket.destroy() (which frees the queue at once; end() would
//    wait for a reader that never reads), call onSlowConsumer(member), and
//    return false. A member whose queue is under the cap is never dropped:
//    a burst bigger than 16 KiB is normal.
// 3. broadcast(frame, except) sends the frame to every member except
//    `except`, and returns how many members it was written to. A member
//    dropped on the way must not stop the others. Loop over a copy of the
//    members: code you call may make members join or leave meanwhile.
//
// The course's room is shared/src/room.ts: read it when you are done. The
// reference solution is exercises/solutions/stage4/core.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import type net from 'node:net';

/** What the room needs from a member: its connection. */
export interface RoomMember {
  /** The member's socket; the room only writes to it or destroys it. */
  readonly socket: net.Socket;
}

/** Options for a {@link Room}. */
export interface RoomOptions<M extends RoomMember> {
  /** Most bytes a member may have queued before it is dropped. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Told once about each member dropped for passing the cap, after its socket was destroyed. */
  onSlowConsumer?: (member: M) => void;
}

/** The members of a chat room, and a broadcast one stuck member cannot break. */
export class Room<M extends RoomMember> {
  /** The per-member send-queue cap, in bytes. */
  readonly maxQueueBytes: number;
  private readonly current = new Set<M>();
  private readonly onSlowConsumer: (member: M) => void;

  /** @param options - the queue cap and the slow-consumer callback */
  constructor(options: RoomOptions<M> = {}) {
    this.maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
    this.onSlowConsumer = options.onSlowConsumer ?? (() => {});
  }

  /** Adds a member; `false` if it was already in. */
  join(member: M): boolean {
    if (this.current.has(member)) return false;
    this.current.add(member);
    return true;
  }

  /** Removes a member; `true` only for the call that removed it. */
  leave(member: M): boolean {
    return this.current.delete(member);
  }

  /** How many members are in the room. */
  get size(): number {
    return this.current.size;
  }

  /**
   * Writes one encoded frame to every member except `except`.
   *
   * @returns how many members it was written to
   */
  broadcast(frame: Buffer, except?: M): number {
    throw new Error('broadcast is not written yet');
  }

  /**
   * Writes one frame to one member, under the same cap.
   *
   * @returns `false` if nothing was written, or if the member was just dropped
   */
  send(member: M, frame: Buffer): boolean {
    throw new Error('send is not written yet');
  }
}
