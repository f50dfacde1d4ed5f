/**
 * What a stage 6 server must answer a logged-in client, computed from the
 * protocol rules (the framing model and the frame spec), not from the server:
 *
 * - a line the framer rejects: an `error` frame with its code; if the line
 *   was too large, the server then closes the connection;
 * - a line the spec rejects: `error` BAD_FRAME (the connection stays);
 * - a valid `chat`: nothing to the sender; relayed to everyone else;
 * - `who`: a `who` frame; `login`/`register`: `error` BAD_FRAME.
 */
import { modelLines } from './lines';
import { judge, SPEC_MAX_FRAME_BYTES, STAGE6_CLIENT } from './frames';

/** A frame the sender must receive, in order. */
export type ExpectedReply = { type: 'error'; code: string } | { type: 'who' };

/** What one write of bytes must cause. */
export interface ExpectedOutcome {
  /** Frames back to the sender, in order. */
  replies: ExpectedReply[];
  /** Boxes relayed to every other member, in order. */
  relays: string[];
  /** Whether the server then closes the sender's connection (FRAME_TOO_LARGE). */
  closes: boolean;
}

/**
 * The outcome of sending `bytes` (whole lines: it should end with `\n`) on a
 * logged-in connection whose decoder holds nothing.
 *
 * @param bytes - what the client writes
 */
export function expectWhileChatting(bytes: Uint8Array): ExpectedOutcome {
  const outcome: ExpectedOutcome = { replies: [], relays: [], closes: false };
  for (const line of modelLines(bytes, SPEC_MAX_FRAME_BYTES).frames) {
    if (!line.ok) {
      outcome.replies.push({ type: 'error', code: line.code });
      if (line.code === 'FRAME_TOO_LARGE') {
        outcome.closes = true;
        return outcome;
      }
      continue;
    }
    const verdict = judge(STAGE6_CLIENT, line.text);
    if (!verdict.ok) {
      outcome.replies.push({ type: 'error', code: verdict.code });
      if (verdict.code === 'FRAME_TOO_LARGE') {
        outcome.closes = true;
        return outcome;
      }
    } else if (verdict.frame.type === 'chat') {
      outcome.relays.push(verdict.frame.box as string);
    } else if (verdict.frame.type === 'who') {
      outcome.replies.push({ type: 'who' });
    } else {
      outcome.replies.push({ type: 'error', code: 'BAD_FRAME' });
    }
  }
  return outcome;
}
