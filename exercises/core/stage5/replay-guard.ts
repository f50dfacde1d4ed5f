// Stage 5: refuse replayed messages with a sequence number and a window.
//
//   npm run exercise -- stage5/replay     checks this file
//
// AES-GCM proves a box was sealed with the room key; it does not prove the
// box is new. Anyone who recorded a box (the server, an observer of the wire)
// can send it again, and it opens again: "transfer 100 coins" twice. The fix
// is a number the sender puts INSIDE the box, one higher for each message,
// and a receiver that remembers which numbers it has seen. Remembering every
// number ever seen grows without end, so receivers keep a window, as IPsec
// and DTLS do: the highest number seen, and which of the `window` numbers
// just below it have been seen.
//
// The task: write ReplayGuard.accept() below. For each sender separately:
// 1. A sequence number is a whole number from 0 to Number.MAX_SAFE_INTEGER;
//    anything else (-1, 1.5, NaN, Infinity) is refused.
// 2. The first number from a sender is accepted, whatever it is.
// 3. A number above the highest seen is accepted, and becomes the highest.
//    A jump forward (a sender that skipped a million) must not cost memory
//    in proportion to the jump.
// 4. A number at most `window - 1` below the highest is accepted once, the
//    first time it comes (messages may arrive out of order), and refused
//    after that.
// 5. A number `window` or more below the highest is refused, seen or not:
//    it is too old to know. This is what keeps the memory bounded: at most
//    `window` flags per sender, whatever has been received.
// 6. The highest number itself, sent again, is a replay: refused.
// With window 1, this is the plain rule "accept only numbers above the last".
//
// Stage 5's chapter asks the open questions that stay: what happens when a
// sender restarts and counts from 0 again, and why the number must be inside
// the box, not next to it. The reference solution is
// exercises/solutions/stage5/replay.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */

/** Remembers, per sender, which sequence numbers were accepted recently. */
export class ReplayGuard {
  /** How many numbers below the highest are still tracked (1 to 1024). */
  readonly window: number;

  /** @param options - the window; default 64, as in IPsec */
  constructor(options: { window?: number } = {}) {
    this.window = options.window ?? 64;
  }

  /**
   * Decides whether a message is new, and remembers it if it is.
   *
   * @param sender - who sent it (each sender has its own numbers)
   * @param seq - the sequence number found inside the box
   * @returns true the first time a number within the window is seen; false
   *   for a repeat, a number too old to know, or one that is not a sequence number
   */
  accept(sender: string, seq: number): boolean {
    throw new Error('accept is not written yet');
  }
}
