/**
 * Fuzz targets for shared/src/framing.ts (the LineDecoder and encodeFrame).
 *
 * Beyond the unit tests' properties (valid lines cut anywhere; random bytes
 * do not throw), these compare the decoder with an independent model of the
 * framing rules on streams full of CRs, oversized lines and UTF-8 mistakes,
 * with random frame limits, random chunking, and the caller reusing its
 * chunk buffer after every push.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { ChatError } from '../../shared/src/errors';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, LineDecoder } from '../../shared/src/framing';
import { byteStream, cutPoints } from '../arbitraries/bytes';
import { pureCampaign, type FuzzTarget } from '../campaign';
import { cut, modelLines, type ModelFrame } from '../reference/lines';
import { isWellFormed } from '../reference/utf8';

const FRAME_CODES = new Set(['FRAME_TOO_LARGE', 'BAD_UTF8']);

/** Pushes every chunk through a fresh decoder and returns the frames as the model writes them. */
function decodeChunks(decoder: LineDecoder, chunks: Uint8Array[]): ModelFrame[] {
  const frames: ModelFrame[] = [];
  for (const chunk of chunks) {
    // Give the decoder its own copy, then scribble over it after the push, as
    // a caller that recycles its read buffer would: the decoder must have copied.
    const copy = Buffer.from(chunk);
    for (const frame of decoder.push(copy)) {
      if (frame.ok) {
        frames.push({ ok: true, text: frame.text });
      } else {
        if (!(frame.error instanceof ChatError) || !FRAME_CODES.has(frame.error.code)) {
          throw new Error(`untyped or unexpected rejection: ${String(frame.error)}`);
        }
        frames.push({ ok: false, code: frame.error.code });
      }
    }
    copy.fill(0x0a);
  }
  return frames;
}

/** The decoder agrees with the model of the framing rules, however the stream is cut. */
export const framingModel: FuzzTarget = {
  name: 'framing.model',
  about: 'LineDecoder vs an independent model (RFC 3629 UTF-8, CR, caps), any chunking',
  fullRuns: 100_000,
  ciRuns: 1_500,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        byteStream,
        fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(DEFAULT_MAX_FRAME_BYTES)),
        cutPoints,
        (stream, maxFrameBytes, offsets) => {
          const expected = modelLines(stream, maxFrameBytes);
          const decoder = new LineDecoder({ maxFrameBytes });
          const frames = decodeChunks(decoder, cut(stream, offsets));
          if (!isDeepStrictEqual(frames, expected.frames)) {
            throw new Error(
              `decoder ${JSON.stringify(frames)}\n  model ${JSON.stringify(expected.frames)}`,
            );
          }
          if (decoder.bufferedBytes !== expected.buffered) {
            throw new Error(`buffered ${decoder.bufferedBytes}, model ${expected.buffered}`);
          }
        },
      ),
    ),
};

/** Lines of any text: well-formed, with lone surrogates, with a leading BOM, with line breaks. */
const anyLine = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => '\uFEFF' + s),
  fc.constantFrom('', '\r', 'a\rb', 'x\n', '\u2028', '\u0085', '\uFEFF', '\uD800'),
);

/**
 * encodeFrame then LineDecoder gives back the text exactly: a line break is
 * refused with BAD_FRAME (it would become two frames), a lone surrogate comes
 * back as U+FFFD (UTF-8 cannot carry it), a long line is FRAME_TOO_LARGE,
 * and nothing else is ever changed, a leading U+FEFF included.
 */
export const framingRoundTrip: FuzzTarget = {
  name: 'framing.roundtrip',
  about: 'encodeFrame → LineDecoder returns every text unchanged, or refuses it with a code',
  fullRuns: 100_000,
  ciRuns: 1_500,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        fc.array(anyLine, { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        cutPoints,
        (lines, maxFrameBytes, offsets) => {
          const encoded: Buffer[] = [];
          const expected: ModelFrame[] = [];
          for (const line of lines) {
            let bytes: Buffer;
            try {
              bytes = encodeFrame(line);
            } catch (err) {
              if (!(err instanceof ChatError && err.code === 'BAD_FRAME') || !/[\r\n]/.test(line)) {
                throw err;
              }
              continue;
            }
            if (/[\r\n]/.test(line)) throw new Error(`encodeFrame accepted a line break`);
            encoded.push(bytes);
            const text = isWellFormed(line) ? line : Buffer.from(line, 'utf8').toString('utf8');
            expected.push(
              bytes.length - 1 > maxFrameBytes
                ? { ok: false, code: 'FRAME_TOO_LARGE' }
                : { ok: true, text },
            );
          }
          const stream = Buffer.concat(encoded);
          const frames = decodeChunks(new LineDecoder({ maxFrameBytes }), cut(stream, offsets));
          if (!isDeepStrictEqual(frames, expected)) {
            throw new Error(
              `decoded ${JSON.stringify(frames)}\n  sent ${JSON.stringify(expected)}`,
            );
          }
        },
      ),
    ),
};
