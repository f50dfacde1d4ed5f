/**
 * Presence notices ("X joined", "X left"), and the room size above which a
 * server stops sending them.
 *
 * Introduced by stage 4, whose chapter explains the rule; stages 5 and 6
 * follow it too. Each notice is one write to every member, so announcing
 * every join makes filling a room quadratic in its size.
 *
 * @module
 */
import { ChatError } from './errors';

/**
 * Largest room in which a server announces arrivals and departures: a
 * "joined" or "left" notice is sent only when the room has at most this many
 * members with the member counted in (after a join, before a leave). Each
 * notice is one write to every member, so filling a room to N members costs
 * about N²/2 writes if every join is announced, for news nobody can follow
 * past a certain size; Twitch's chat stops its join and part notices at the
 * same size. Servers take a smaller limit as an option, for tests.
 */
export const PRESENCE_NOTICE_LIMIT = 1000;

/**
 * Whether a change of the room between `members - 1` and `members` members
 * is announced (see {@link PRESENCE_NOTICE_LIMIT}). Joins and leaves follow
 * the same rule, so the notices stop and start again at the same size,
 * whichever way the room is going.
 *
 * @param members - the room's size with the member counted in: after a join, before a leave
 * @param limit - the server's limit, normally {@link PRESENCE_NOTICE_LIMIT}
 *
 * @example
 * ```ts
 * announcesPresence(3, 3); //=> true: the 3rd arrival, or a leave from a room of 3
 * announcesPresence(4, 3); //=> false
 * ```
 */
export function announcesPresence(members: number, limit: number): boolean {
  return members <= limit;
}

/**
 * A server's presence limit option, checked: the default when it is absent.
 *
 * @param limit - the option as given
 * @returns the limit to use
 * @throws ChatError `BAD_ARGUMENT` unless it is a whole number ≥ 0
 */
export function presenceLimitOption(limit: number | undefined): number {
  const value = limit ?? PRESENCE_NOTICE_LIMIT;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ChatError('BAD_ARGUMENT', 'presence limit must be a whole number ≥ 0');
  }
  return value;
}
