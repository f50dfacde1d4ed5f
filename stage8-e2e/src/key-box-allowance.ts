/**
 * Which key boxes cost no token of the message budget: one per recipient
 * per membership.
 *
 * A member hands its sender key to another member when one of them has
 * just joined, or when the room lost someone who held the key (the sender
 * then starts a new epoch and hands the new key to everyone left, n - 1
 * boxes at once: no fixed budget would fit a large room's). So a box is
 * needed at most once per recipient between two changes of the room's
 * membership. That one is free; any more to the same member costs a token
 * like any other frame. Without this, boxes were free without limit, and a
 * member could send one victim boxes as fast as its link allowed: each one
 * relayed, each one verified by the victim's client.
 *
 * The server counts membership changes (`joined` and `left`); a connection
 * keeps the recipients it sent a free box to since the count it last saw.
 *
 * @module
 */

// A key box as our clients write it (JSON.stringify, fields in schema
// order, no escapes), so the `to` read here is the one the decoder will
// route to. Any other spelling costs a token, whatever it is.
const CANONICAL =
  /^\{"type":"sender-key","to":"([^"\\]{1,32})","eph":"[^"\\]*","box":"[^"\\]*","sig":"[^"\\]*"\}$/;

/**
 * The recipient of a key box written in the canonical form, or `undefined`
 * for any other line (which then pays like any frame).
 *
 * @param text - one line from the client, without its line ending
 */
export function keyBoxRecipient(text: string): string | undefined {
  return CANONICAL.exec(text)?.[1];
}

/** One connection's free key boxes (see the module comment). */
export class KeyBoxAllowance {
  private membership = -1;
  private readonly given = new Set<string>();

  /**
   * Takes the free box for `to` if it was not used since the last change.
   *
   * @param to - a member in the room (the caller checks; the set stays at most the room's size)
   * @param membership - the server's count of membership changes, now
   * @returns whether this box is free
   */
  take(to: string, membership: number): boolean {
    if (membership !== this.membership) {
      this.membership = membership;
      this.given.clear();
    }
    if (this.given.has(to)) return false;
    this.given.add(to);
    return true;
  }
}
