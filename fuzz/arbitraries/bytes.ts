/**
 * Byte streams that probe a newline framer: valid text, line endings in odd
 * places, and the UTF-8 mistakes a strict decoder must reject (or must not).
 */
import fc from 'fast-check';

/** Byte sequences chosen by hand for what they test; each one is a piece of a stream. */
export const TRICKY_BYTES: readonly (readonly number[])[] = [
  [0x0a], // LF: ends a frame
  [0x0d], // a lone CR: kept unless it ends the line
  [0x0d, 0x0a], // CRLF (telnet)
  [0x0d, 0x0d, 0x0a], // only one CR is dropped
  [0xef, 0xbb, 0xbf], // a byte-order mark: U+FEFF, an ordinary character in a frame
  [0x00], // NUL: valid UTF-8
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0x80], // overlong three-byte form
  [0xf0, 0x80, 0x80, 0x80], // overlong four-byte form
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate (U+D800) encoded as UTF-8
  [0xed, 0x9f, 0xbf], // U+D7FF: the last code point before the surrogates, valid
  [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF: the last code point, valid
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80], // a lead byte that can never appear
  [0x80], // a stray continuation byte
  [0xe2, 0x82], // a truncated euro sign
  [0xe2, 0x82, 0xac], // a whole euro sign
  [0xf0, 0x9f, 0x8c], // a truncated emoji
  [0xff],
  [0xfe],
];

/** One piece of a stream: a tricky sequence, UTF-8 text, a run of one byte, or random bytes. */
export const streamPiece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TRICKY_BYTES).map((b) => Uint8Array.from(b)) },
  {
    weight: 3,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 12 })
      .map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 80 }), fc.constantFrom(0x61, 0x0d, 0x80, 0xc3))
      .map(([n, byte]) => new Uint8Array(n).fill(byte)),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }) },
);

/** A stream made of pieces; small caps make oversized lines common. */
export const byteStream: fc.Arbitrary<Uint8Array> = fc
  .array(streamPiece, { maxLength: 40 })
  .map((pieces) => new Uint8Array(Buffer.concat(pieces)));

/** Cut points for {@link cut}: none (one chunk) up to many (down to single bytes). */
export const cutPoints: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 40 });
