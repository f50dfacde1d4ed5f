/**
 * What a fuzzing client writes on a socket: lines from the frame mutator,
 * random byte streams (several lines, invalid UTF-8, lone CRs), and lines
 * around the 16 KiB frame limit.
 */
import fc from 'fast-check';
import { STAGE6_CLIENT, SPEC_MAX_FRAME_BYTES } from '../reference/frames';
import { byteStream } from './bytes';
import { hostileLine } from './frames';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** The bytes of one write, without its final newline (the sender adds it). */
export const clientPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 12, arbitrary: hostileLine(STAGE6_CLIENT).map(utf8) },
  { weight: 4, arbitrary: byteStream },
  {
    weight: 2,
    arbitrary: fc
      .array(hostileLine(STAGE6_CLIENT), { maxLength: 5 })
      .map((l) => utf8(l.join('\n'))),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: SPEC_MAX_FRAME_BYTES - 1, max: SPEC_MAX_FRAME_BYTES + 600 })
      .map((n) => new Uint8Array(n).fill(0x41)),
  },
);
