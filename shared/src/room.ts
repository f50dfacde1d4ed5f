/**
 * The room: who is connected, and a broadcast that one bad member cannot break.
 *
 * Introduced by stage 4; reused unchanged by stages 5 and 6 (stage 6 attaches a
 * username to each member, which is why the room is generic over the member).
 * It knows nothing about message formats: callers hand it bytes that are
 * already encoded, so the room is the same whether frames are plain text
 * (stage 4) or JSON with ciphertext (stages 5–6).
 *
 * Four lessons live here:
 *
 * 1. **Membership that changes during a broadcast.** A write can lead to an
 *    `'error'`, an `'error'` to a `'close'`, a `'close'` to {@link Room.leave},
 *    and a callback (the slow-consumer report) to anything at all, even in the
 *    middle of {@link Room.broadcast}. ECMAScript defines what a `for…of`
 *    over a `Map` (or `Set`) does when it changes underneath: entries are
 *    visited in insertion order, an entry deleted before the loop reaches it
 *    is never visited, and an entry added during the loop is visited when the
 *    loop gets there (it was appended at the end). The first rule is what a
 *    broadcast wants: a member that left gets nothing. The second is not: a
 *    member that joined after the frame was sent must not receive it. So each
 *    member is stored with its join number, and the loop stops at the first
 *    member that joined after the broadcast began. No copy of the member list
 *    is made per message.
 * 2. **Exactly-once removal.** A socket may report `'end'`, `'error'` and
 *    `'close'` for one disconnect. {@link Room.leave} returns `true` only for
 *    the call that actually removed the member, so the owner sends exactly one
 *    "left" notice however many events fire.
 * 3. **Backpressure with a cap.** `socket.write()` never blocks: when the peer
 *    does not read, Node keeps the bytes in the socket's user-space queue
 *    (`socket.writableLength`) and `write()` returns `false` once that queue
 *    passes the stream's highWaterMark (16 KiB). Waiting for `'drain'` before
 *    writing to the *next* member would let one stuck reader freeze the whole
 *    room, the classic failure of thread-per-client servers that block in
 *    `send()`. Ignoring `false` forever would let that reader grow our memory
 *    without bound. So the room keeps writing and cuts a member loose once its
 *    queue passes `maxQueueBytes` (default 1 MiB). Mature servers choose the
 *    same: IRC servers such as ergo cap each client's send queue (`max-sendq`)
 *    and drop a client that passes it; the `ws` library exposes
 *    `bufferedAmount` so applications can apply such a policy.
 * 4. **Few writes per member per turn of the event loop.** A `write()` is a
 *    system call, and on a busy server several senders' messages reach the
 *    same member in one turn of the event loop. The first frame a member gets
 *    in a turn is written at once; a second one in the same turn corks the
 *    member's socket, and every corked socket is uncorked when the turn's I/O
 *    is done (`setImmediate`), so Node hands the kernel the rest of that
 *    turn's frames in one `writev`. Why not cork from the first frame? In a
 *    quiet room each turn carries one message, there is nothing to merge, and
 *    the cork (the bytes wait in a queue, a second pass sends them) is pure
 *    cost, plainly visible in the benchmark's paced fan-out (bench/README.md).
 *    Nothing waits longer than the current turn. Redis does the same: replies
 *    are queued and written once per event-loop iteration, just before it
 *    sleeps.
 *
 * @module
 */
import type net from 'node:net';
import { ChatError } from './errors';

/** A member's place in the room: who sits in it, since when, and its last turn written to. */
interface Seat<M> {
  /** The member sitting here. */
  readonly member: M;
  /** Its join number: a broadcast skips members that joined after it began. */
  readonly joined: number;
  /** The event-loop turn of its last write (see lesson 4), -1 before any. */
  writtenInTurn: number;
}

/** The default per-member output queue cap: 1 MiB of unsent bytes. */
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

/**
 * What the room needs from a member: its socket. Stages add their own fields
 * (stage 4 a `label` like `127.0.0.1:50312`, stage 6 a `username`).
 */
export interface RoomMember {
  /** The member's connection; the room only ever writes to it or destroys it. */
  readonly socket: net.Socket;
}

/** Options for a {@link Room}. */
export interface RoomOptions<M extends RoomMember> {
  /**
   * Most bytes a member may have queued but not yet sent before it is
   * disconnected as a slow consumer. Default {@link DEFAULT_MAX_QUEUE_BYTES}.
   */
  maxQueueBytes?: number;
  /**
   * Called once when a member is cut off for passing the cap, after its socket
   * was destroyed (so use it to log, not to write to that member). The member
   * is still in the room until its socket's `'close'` makes the owner call
   * {@link Room.leave}, which then sends the usual "left" notice.
   */
  onSlowConsumer?: (member: M, error: ChatError) => void;
}

/**
 * A set of members and a broadcast to all of them.
 *
 * The owner wires each connection like this: `join` when it is ready to
 * receive, and `leave` from the socket's `'close'` listener (Node emits
 * `'close'` exactly once per socket, after `'end'` or `'error'`).
 *
 * @example
 * ```ts
 * const room = new Room<{ socket: net.Socket; label: string }>({ maxQueueBytes: 1 << 20 });
 * const member = { socket, label: '127.0.0.1:50312' };
 * room.join(member);
 * socket.on('close', () => {
 *   if (room.leave(member)) room.broadcast(encodeFrame(`* ${member.label} left`));
 * });
 * room.broadcast(encodeFrame('127.0.0.1:50312: hi'), member); //=> number of members written to
 * ```
 */
export class Room<M extends RoomMember> {
  /** The per-member output queue cap in bytes. */
  readonly maxQueueBytes: number;
  // Member → its seat; a Map iterates in insertion (join) order.
  private readonly current = new Map<M, Seat<M>>();
  private joins = 0;
  // Which turn of the event loop this is, whether its end is scheduled, and
  // the sockets corked in it (see `deliver`).
  private turn = 0;
  private turnEnding = false;
  private corked: net.Socket[] = [];
  private readonly endTurn = () => {
    this.turn++;
    this.turnEnding = false;
    const corked = this.corked;
    this.corked = [];
    for (const socket of corked) socket.uncork();
  };
  private readonly onSlowConsumer: ((member: M, error: ChatError) => void) | undefined;

  /** @param options - the queue cap and the slow-consumer callback */
  constructor(options: RoomOptions<M> = {}) {
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.onSlowConsumer = options.onSlowConsumer;
  }

  /**
   * Adds a member.
   *
   * @param member - the member; compared by identity
   * @returns `false` if it was already in the room
   */
  join(member: M): boolean {
    if (this.current.has(member)) return false;
    this.current.set(member, { member, joined: ++this.joins, writtenInTurn: -1 });
    return true;
  }

  /**
   * Removes a member. Safe to call from every `'end'`, `'error'` and
   * `'close'` listener: only the first call for a member removes it.
   *
   * @param member - the member to remove
   * @returns `true` only for the call that actually removed it
   */
  leave(member: M): boolean {
    return this.current.delete(member);
  }

  /**
   * Whether a member is in the room.
   *
   * @param member - the member to look for
   */
  has(member: M): boolean {
    return this.current.has(member);
  }

  /** How many members are in the room. */
  get size(): number {
    return this.current.size;
  }

  /**
   * A copy of the member list, in join order: safe to iterate while members
   * join or leave.
   */
  members(): M[] {
    return [...this.current.keys()];
  }

  /**
   * Writes one already-encoded frame to every member except `except`.
   *
   * Encode once, write the same `Buffer` to everyone: sockets never modify
   * what they are given, so one encoding serves the whole room.
   *
   * @param frame - the encoded frame (e.g. from `encodeFrame`)
   * @param except - a member that must not receive it (usually the sender)
   * @returns how many members the frame was queued for
   */
  broadcast(frame: Buffer, except?: M): number {
    let written = 0;
    // The live map, not a copy (see the module comment): a member removed
    // during the loop is skipped by the iteration itself, and members added
    // during it come last, after everyone who was here when it began. Its
    // values, not its entries: each seat holds its member, and an entry
    // would be a new [member, seat] array for every member of every
    // broadcast (V8 does not optimise it away here; callgrind counted it).
    const last = this.joins;
    for (const seat of this.current.values()) {
      if (seat.joined > last) break;
      if (seat.member !== except && this.deliver(seat.member, seat, frame)) written++;
    }
    return written;
  }

  /**
   * Writes one frame to one member, with the same queue cap as a broadcast.
   * Use it for replies and notices meant for a single member.
   *
   * @param member - the recipient (normally a member of this room)
   * @param frame - the encoded frame
   * @returns `false` if nothing was written (socket closing) or the member
   *   was just disconnected for passing the cap
   */
  send(member: M, frame: Buffer): boolean {
    return this.deliver(member, this.current.get(member), frame);
  }

  // One frame to one member; `seat` is the member's place in the room
  // (undefined for a socket that is not a member: then every write goes out at once).
  private deliver(member: M, seat: Seat<M> | undefined, frame: Buffer): boolean {
    const { socket } = member;
    // A destroyed or ended socket cannot take more bytes; writing would only
    // produce an ERR_STREAM_DESTROYED / write-after-end error. `writable` is
    // false for both (and for an errored one), and it is one getter: this
    // line runs once per delivery, and `destroyed` alone cost a Duplex getter
    // that also looks at the readable side, which says nothing about writing.
    if (!socket.writable) return false;
    // The turn's first frame to this member goes straight out; a second one
    // corks its socket until the turn ends (see the module comment).
    if (seat === undefined || seat.writtenInTurn !== this.turn) {
      if (seat !== undefined) seat.writtenInTurn = this.turn;
      if (!this.turnEnding) {
        this.turnEnding = true;
        setImmediate(this.endTurn);
      }
    } else if (!socket.writableCorked) {
      socket.cork();
      this.corked.push(socket);
    }
    // We deliberately ignore write()'s return value (see the module comment):
    // the cap below is our flow control.
    socket.write(frame);
    if (socket.writableLength > this.maxQueueBytes) {
      // Judge what the peer has not taken, not what this turn has not sent
      // yet: hand the kernel what it will accept now, then look again.
      socket.uncork();
      if (socket.writableLength > this.maxQueueBytes) {
        this.dropSlowConsumer(member);
        return false;
      }
    }
    return true;
  }

  private dropSlowConsumer(member: M): void {
    const queued = member.socket.writableLength;
    // destroy() discards the queued bytes at once (that memory is the point)
    // and sends nothing more: a client that is not reading would not see a
    // goodbye anyway. Its 'close' follows on the next tick.
    member.socket.destroy();
    const error = new ChatError(
      'SLOW_CONSUMER',
      `output queue reached ${queued} bytes (cap ${this.maxQueueBytes}); the client stopped reading`,
    );
    this.onSlowConsumer?.(member, error);
  }
}
