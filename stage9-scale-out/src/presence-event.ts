/**
 * Presence events on the wire: one line, signed like an envelope.
 *
 * ```text
 * chat-presence/2 join alice node-a~9f86d081 1796601600000 q3Xz0b9LmRc MAC
 * ```
 *
 * Fields, separated by one space: the version, the kind (`join` or `leave`),
 * the user, the node their session is (or was) on, the time it was signed (ms
 * since 1970, by Redis's clock: `redis-clock.ts`), a nonce (8 random bytes,
 * base64url: the same user can come and go twice within one millisecond, and
 * each event must still be one of a kind), and the MAC: an
 * HMAC-SHA256 of everything before it, under the cluster's bus key
 * (`bus-keys.ts`, the key envelopes are signed with; the first field tells
 * the two kinds of message apart, so neither can pass for the other).
 *
 * **Who signs.** Redis's scripts publish every event, inside the step that
 * changes the state it reports, so events and state never disagree (see
 * `presence-scripts.ts`). But a script cannot hold the key (Redis would see
 * it), so no script writes an event itself: the node that runs the script
 * signs the events it may need and passes them in. The claiming node signs its
 * user's `join`, the releasing node the `leave`, and the node that reaps a
 * dead one signs a `leave` for each of the dead node's users.
 *
 * **Why.** `chat-presence/1` had no MAC: whoever could `PUBLISH` to Redis
 * could tell every member `* bob left` while bob was there.
 *
 * **Fresh, and heard once.** A reader refuses an event signed more than a
 * minute from its own reading of the cluster's clock, or well before its node
 * joined the bus, as for envelopes (`bus-envelope.ts`). Inside
 * that minute it remembers the MAC of each event it accepted, and refuses the
 * same event again: otherwise a recording of `join bob`, played back, would
 * announce him twice. Envelopes need no such memory, because their sequence
 * numbers catch a repeat; events carry none (they are signed by whichever
 * node made the change, and published in the order the scripts ran, not the
 * order they were signed in). The memory holds only real events of the last
 * minute or two: nobody without the key can add to it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ChatError } from '../../shared/src/errors';
import { USERNAME_PATTERN } from '../../shared/src/user-record';
import { freshnessProblem, MAX_ENVELOPE_AGE_MS } from './bus-envelope';
import type { BusKeys } from './bus-keys';
import { NODE_ID_PATTERN } from './cluster-keys';
import type { PresenceEvent } from './presence';

/** The first field of a presence event; a reader refuses any other version. */
export const PRESENCE_VERSION = 'chat-presence/2';

// Longer than any event can be: refused before it is even split.
const MAX_EVENT_BYTES = 256;
const TIME_PATTERN = /^[1-9][0-9]{0,15}$/;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{11}$/;
// The MAC signs no frame: an event is all header.
const NO_FRAME = new Uint8Array(0);

/**
 * Encodes and signs a presence event.
 *
 * @param event - who, where, and whether they arrived or went
 * @param keys - the cluster's bus keys (the first signs)
 * @param sentAt - now, in ms by the cluster's clock (`RedisClock.now()`)
 * @param nonce - 8 random bytes when none is given (a test vector gives its own)
 * @returns the line a script publishes, e.g. `chat-presence/2 join alice node-a~9f86d081 1796601600000 q3Xz0b9LmRc MAC`
 */
export function encodePresenceEvent(
  event: PresenceEvent,
  keys: BusKeys,
  sentAt: number,
  nonce: string = randomBytes(8).toString('base64url'),
): string {
  const { kind, user, node } = event;
  const signed = `${PRESENCE_VERSION} ${kind} ${user} ${node} ${Math.floor(sentAt)} ${nonce}`;
  return `${signed} ${keys.sign(signed, NO_FRAME)}`;
}

/**
 * One node's reader of presence events: checks each one's MAC, shape and
 * time, and refuses one it has already accepted.
 */
export class PresenceEventReader {
  // MAC → until when its event passes the time check; a repeat before then
  // is refused. Kept in arrival order, which is close to time order, so
  // forgetting stops at the first entry still current.
  private readonly heard = new Map<string, number>();

  /**
   * @param keys - the cluster's bus keys (any of them may have signed an event)
   */
  constructor(private readonly keys: BusKeys) {}

  /**
   * Checks and decodes an event received from the bus.
   *
   * @param message - the message as delivered
   * @param now - this node's reading of the cluster's clock, in ms
   * @param joinedAt - when this node last joined the bus, by that clock: an
   *   event sent well before it is a recording (`freshnessProblem`)
   * @throws ChatError `BAD_FRAME` naming the first problem found
   */
  read(message: Buffer, now: number, joinedAt = -Infinity): PresenceEvent {
    if (message.length > MAX_EVENT_BYTES) throw bad(`${message.length} bytes: too long`);
    const text = message.toString('latin1');
    const version = text.split(' ', 1)[0]!;
    if (version !== PRESENCE_VERSION) {
      throw bad(`unknown version ${JSON.stringify(version.slice(0, 20))}`);
    }
    const space = text.lastIndexOf(' ');
    const mac = text.slice(space + 1);
    if (!this.keys.check(text.slice(0, space), NO_FRAME, mac)) {
      throw bad("MAC does not check: not signed with this cluster's key");
    }
    const fields = text.split(' ');
    const [, kind, user, node, sent, nonce] = fields;
    if (
      fields.length !== 7 ||
      (kind !== 'join' && kind !== 'leave') ||
      !USERNAME_PATTERN.test(user!) ||
      !NODE_ID_PATTERN.test(node!) ||
      !TIME_PATTERN.test(sent!) ||
      !NONCE_PATTERN.test(nonce!)
    ) {
      throw bad('not a well-formed event');
    }
    const stale = freshnessProblem(Number(sent), now, joinedAt);
    if (stale !== undefined) throw bad(stale);
    this.forget(now);
    if (this.heard.has(mac)) throw bad('a repeat of an event already heard');
    this.heard.set(mac, Number(sent) + MAX_ENVELOPE_AGE_MS);
    return { kind, user: user!, node: node! };
  }

  /** How many events it remembers: at most those of the last minute or so. */
  get remembered(): number {
    return this.heard.size;
  }

  // Deleting the entry a for-of loop stands on is defined behaviour: the
  // loop goes on with the next one.
  private forget(now: number): void {
    for (const [mac, until] of this.heard) {
      if (until >= now) return;
      this.heard.delete(mac);
    }
  }
}

function bad(problem: string): ChatError {
  return new ChatError('BAD_FRAME', `presence event refused: ${problem}`);
}
