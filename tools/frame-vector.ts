/**
 * One frame vector: a line given to a frame decoder and the decoder's verdict,
 * recorded from the real decoder. Shared by the stage 5/6 frame vectors
 * (tools/wire-vectors-build.ts) and the stage 8 ones
 * (tools/wire-vectors-stage8.ts), which docs/wire-vectors.json holds side by side.
 */

import type { Decoded } from '../shared/src/protocol';

/** One line of JSON given to a frame decoder, and the decoder's verdict. */
export interface FrameVector {
  /** What the case shows. */
  name: string;
  /** The line's text, without `\n`; absent when `lineTemplate` describes a long line. */
  line?: string;
  /** A long line, spelled out: `prefix + repeat × count + suffix`. */
  lineTemplate?: { prefix: string; repeat: string; count: number; suffix: string };
  /** `{ ok: true, frame }` with the decoded object, or `{ ok: false, code }`. */
  expected: { ok: true; frame: unknown } | { ok: false; code: string };
}

/** A frame set: what one side sends, as the other side's decoder judges it. */
export interface FrameSet {
  /** Lines a client sends, judged by the server's decoder. */
  clientToServer: FrameVector[];
  /** Lines a server sends, judged by the client's decoder. */
  serverToClient: FrameVector[];
}

/** A decoder of one direction: never throws, answers `ok` or a coded error. */
export type Decode = (text: string) => Decoded<unknown>;

/** Whether a case is written to decode (`valid`) or to be refused (`invalid`). */
export type Intent = 'valid' | 'invalid';

/** The line a `lineTemplate` stands for: `prefix + repeat × count + suffix`. */
export function expandTemplate(t: NonNullable<FrameVector['lineTemplate']>): string {
  return t.prefix + t.repeat.repeat(t.count) + t.suffix;
}

/**
 * Records what `decode` makes of a line. The intent is the one thing written
 * by hand, and it is enforced: a `valid` case that is refused (or the
 * reverse) throws, so a protocol change cannot silently turn an example into
 * a counter-example.
 */
export function frameVector(
  decode: Decode,
  intent: Intent,
  name: string,
  input: string | NonNullable<FrameVector['lineTemplate']>,
): FrameVector {
  const text = typeof input === 'string' ? input : expandTemplate(input);
  const result = decode(text);
  if ((intent === 'valid') !== result.ok) {
    const why = result.ok ? 'it decoded' : `${result.error.code}: ${result.error.message}`;
    throw new Error(`wire vector "${name}" is meant to be ${intent}, but ${why}`);
  }
  const expected = result.ok
    ? { ok: true as const, frame: result.frame }
    : { ok: false as const, code: result.error.code };
  return typeof input === 'string'
    ? { name, line: input, expected }
    : { name, lineTemplate: input, expected };
}

/** A frame's line: plain JSON.stringify, the same call encodeJsonFrame makes (minus its \n). */
export const line = (frame: Record<string, unknown>): string => JSON.stringify(frame);
