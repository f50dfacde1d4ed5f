/**
 * Join and leave notices, at most one frame per presence interval.
 *
 * Up to stage 6 every arrival was a `joined` frame to everyone already
 * there. That is fine for people trickling in, and quadratic for a crowd
 * arriving at once: after a server restart, n clients reconnect within
 * seconds, and arrival k is a frame (a TLS record, a write) to k − 1 others,
 * n²/2 in all: half a million frames for a thousand users, each encrypted
 * separately, which keeps the server busy long after everyone is back.
 *
 * So the notices are throttled, the way a chat UI or a metrics pipeline
 * batches events:
 *
 * ```text
 * quiet room:  bob joins ──▶ "joined bob" at once ──▶ timer starts (250 ms or more)
 * in a burst:  carol, dave, eve… join while the timer runs ──▶ remembered
 * timer fires: one frame for all of them ──▶ timer starts again
 * timer fires with nothing remembered ──▶ quiet again
 * ```
 *
 * - A notice in a quiet room goes out at once, as before, as the familiar
 *   `joined`/`left` frame; so does a batch of one.
 * - A batch of several is one `presence` frame: the names (at most
 *   `maxListed` of each kind, the stage's cap for `welcome` and `who`) and the
 *   counts. A burst of n arrivals over T seconds costs each member about
 *   T / 250 ms frames instead of n.
 * - A frame is one write per member, so a big room waits longer between
 *   frames: one millisecond per member, at least 250 ms (1 s for 1,000).
 *   However large the room, a burst costs the server at most about 1,000
 *   notice writes a second.
 * - Waiting notices go out before any chat frame (`sendPending`): nobody
 *   reads a message from a user before the notice that announces them.
 * - Changes that cancel out within a batch are not reported: a user who
 *   joined and left (or left and came back: a reconnect) is news to nobody.
 * - A batch goes to everyone in the room, so it may name its recipient, or
 *   users its `welcome` already listed: the price of encoding one frame for
 *   the whole room.
 *
 * Introduced by stage 7; stage 9 uses it unchanged on every node, for its own
 * members and for users arriving on other nodes (`joinedElsewhere`), which
 * is why it lives here and takes the stage's encoder, list cap and head
 * count: the frame's shape belongs to the stage's protocol module, not here.
 *
 * @module
 */
import type { Room, RoomMember } from './room';

/** The shortest time between two presence frames: 250 ms (a person sees no delay). */
export const PRESENCE_INTERVAL_MS = 250;
/** Members per millisecond of that time: a room of 1,000 waits 1 s between frames. */
const MEMBERS_PER_MS = 1;

/** A room member with a name, as the notices need it. */
export interface NamedMember extends RoomMember {
  /** The authenticated username. */
  readonly username: string;
}

/** The frames this module sends: stage 7's `joined`, `left` and `presence`. */
export type PresenceFrame = PresenceOne | PresenceBatch;

/** One arrival or departure: `joined` or `left`. */
export interface PresenceOne {
  /** Which of the two. */
  type: 'joined' | 'left';
  /** Who. */
  who: string;
  /** How many are online now. */
  online: number;
}

/** Several at once: `presence`. */
export interface PresenceBatch {
  /** The frame's type. */
  type: 'presence';
  /** Who logged in, up to `maxListed` names. */
  joined: string[];
  /** How many logged in, named or not. */
  joinedCount: number;
  /** Who left, up to `maxListed` names. */
  left: string[];
  /** How many left, named or not. */
  leftCount: number;
  /** How many are online now. */
  online: number;
}

/** How a stage encodes the frames, how many names they list, and what head count they carry. */
export interface PresenceOptions {
  /** The stage's frame encoder. */
  encode(frame: PresenceFrame): Buffer;
  /** Most names of each kind one frame lists: the stage schema's cap (its `MAX_LISTED_USERS`). */
  maxListed: number;
  /** How many are online (stage 7: the room; stage 9: the whole cluster). */
  online?: () => number;
  /** Shortest time between two frames (longer in rooms of more members). */
  intervalMs?: number;
}

// `member` is set for a member of this room (a lone `joined` skips them).
type Change<M> = { kind: 'joined' | 'left'; who: string; member?: M };

/** Sends a room's `joined`/`left` notices, batched during bursts. */
export class PresenceNotices<M extends NamedMember> {
  // Username → its net change since the last frame (a Map keeps arrival order).
  private readonly pending = new Map<string, Change<M>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly intervalMs: number;

  /**
   * @param room - the room the notices go to
   * @param limit - largest room in which notices are sent (0: never)
   * @param options - the stage's encoder, head count and interval
   */
  constructor(
    private readonly room: Room<M>,
    private readonly limit: number,
    private readonly options: PresenceOptions,
  ) {
    this.intervalMs = options.intervalMs ?? PRESENCE_INTERVAL_MS;
  }

  /**
   * A member joined the room (call after `room.join`).
   *
   * @param member - the newcomer (a lone `joined` frame skips it)
   */
  joined(member: M): void {
    this.change({ kind: 'joined', who: member.username, member });
  }

  /**
   * A user joined on another node (stage 9): told to everyone here.
   *
   * @param who - their username
   */
  joinedElsewhere(who: string): void {
    this.change({ kind: 'joined', who });
  }

  /**
   * A user left on another node (stage 9).
   *
   * @param who - their username
   */
  leftElsewhere(who: string): void {
    this.change({ kind: 'left', who });
  }

  /**
   * A member left the room (call after `room.leave` returned `true`).
   *
   * @param member - who left
   */
  left(member: M): void {
    this.change({ kind: 'left', who: member.username });
  }

  /** Stops: nothing more is sent (at shutdown, after `bye`). Safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private change(change: Change<M>): void {
    if (this.closed || this.limit === 0) return;
    const name = change.who;
    const earlier = this.pending.get(name);
    // Joined then left, or left then back: the two cancel out.
    if (earlier !== undefined && earlier.kind !== change.kind) this.pending.delete(name);
    else this.pending.set(name, change);
    if (this.timer === undefined) this.flush();
  }

  /**
   * Sends what is waiting now, before a chat frame goes out: a notice is
   * never overtaken by a message from the user it announces.
   */
  sendPending(): void {
    if (this.pending.size > 0) this.send();
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    if (this.pending.size === 0) return; // a whole interval without news: quiet again
    this.send();
    const wait = Math.max(this.intervalMs, this.room.size / MEMBERS_PER_MS);
    this.timer = setTimeout(this.flush, wait).unref();
  };

  private send(): void {
    const changes = [...this.pending.values()];
    this.pending.clear();
    const online = this.options.online?.() ?? this.room.size;
    if (online > this.limit) return;
    const { encode, maxListed } = this.options;
    const only = changes.length === 1 ? changes[0]! : undefined;
    if (only !== undefined) {
      this.room.broadcast(encode({ type: only.kind, who: only.who, online }), only.member);
      return;
    }
    const names = (kind: Change<M>['kind']) =>
      changes.filter((c) => c.kind === kind).map((c) => c.who);
    const joined = names('joined');
    const left = names('left');
    const frame: PresenceFrame = {
      type: 'presence',
      joined: joined.slice(0, maxListed),
      joinedCount: joined.length,
      left: left.slice(0, maxListed),
      leftCount: left.length,
      online,
    };
    this.room.broadcast(encode(frame));
  }
}
