/**
 * Fuzz targets for shared/src/crypto.ts: sealed boxes round-trip, and a box
 * changed in any way (not just one flipped bit, as in the unit tests: many
 * bits, truncation, extension, spliced from two boxes, another key, other
 * associated data, a mangled base64 form) never opens: always the typed
 * DECRYPT_FAILED, never plaintext, never another exception.
 */
import fc from 'fast-check';
import {
  BOX_OVERHEAD,
  KEY_BYTES,
  NONCE_BYTES,
  open,
  openText,
  seal,
  sealText,
  TAG_BYTES,
} from '../../shared/src/crypto';
import { ChatError } from '../../shared/src/errors';
import { pureCampaign, type FuzzTarget } from '../campaign';

const key = fc.uint8Array({ minLength: KEY_BYTES, maxLength: KEY_BYTES });
const associatedData = fc.uint8Array({ maxLength: 48 });
const plaintext = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ minLength: 1000, maxLength: 5000 }),
);
const message = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => '\uFEFF' + s),
  fc.constantFrom('', '\u0000', '\uFEFF', 'x'.repeat(4096)),
);

/** seal/open and sealText/openText give back exactly what went in. */
export const cryptoRoundTrip: FuzzTarget = {
  name: 'crypto.roundtrip',
  about: 'seal→open and sealText→openText are the identity (bytes, text, a leading U+FEFF)',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(key, plaintext, message, associatedData, (k, bytes, text, ad) => {
        const box = seal(k, bytes, ad);
        if (box.length !== bytes.length + BOX_OVERHEAD)
          throw new Error(`box is ${box.length} bytes`);
        if (!open(k, box, ad).equals(bytes)) throw new Error('open changed the plaintext');
        const opened = openText(k, sealText(k, text, ad), ad);
        if (opened !== text) {
          throw new Error(`openText gave ${JSON.stringify(opened)} for ${JSON.stringify(text)}`);
        }
      }),
    ),
};

/** One way to damage a box, or what it is opened with. */
type Damage =
  | { kind: 'flip'; bits: number[] }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'splice'; part: 'nonce' | 'ciphertext' | 'tag' }
  | { kind: 'zero'; part: 'nonce' | 'tag' }
  | { kind: 'key'; key: Uint8Array }
  | { kind: 'ad'; ad: Uint8Array }
  | { kind: 'junk'; bytes: Uint8Array };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    bits: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({
    kind: fc.constant('extend' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }),
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    part: fc.constantFrom('nonce' as const, 'ciphertext' as const, 'tag' as const),
  }),
  fc.record({
    kind: fc.constant('zero' as const),
    part: fc.constantFrom('nonce' as const, 'tag' as const),
  }),
  fc.record({ kind: fc.constant('key' as const), key }),
  fc.record({ kind: fc.constant('ad' as const), ad: associatedData }),
  fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ maxLength: 80 }) }),
);

/** Applies one damage; the other box (same plaintext length) is the splice source. */
function inflict(
  d: Damage,
  box: Buffer,
  other: Buffer,
  k: Uint8Array,
  ad: Uint8Array,
): { box: Buffer; key: Uint8Array; ad: Uint8Array } {
  const copy = Buffer.from(box);
  const tagStart = copy.length - TAG_BYTES;
  switch (d.kind) {
    case 'flip':
      for (const bit of d.bits) {
        const n = bit % (copy.length * 8);
        copy[n >> 3] = copy[n >> 3]! ^ (1 << (n & 7));
      }
      return { box: copy, key: k, ad };
    case 'set':
      copy[d.at % copy.length] = d.byte;
      return { box: copy, key: k, ad };
    case 'truncate':
      return { box: copy.subarray(0, d.to % copy.length), key: k, ad };
    case 'extend':
      return { box: Buffer.concat([copy, d.bytes]), key: k, ad };
    case 'splice': {
      // Only boxes of one length have parts at the same offsets.
      if (copy.length !== other.length) return { box: copy, key: k, ad };
      const [from, to] =
        d.part === 'nonce'
          ? [0, NONCE_BYTES]
          : d.part === 'tag'
            ? [tagStart, copy.length]
            : [NONCE_BYTES, tagStart];
      other.copy(copy, from, from, to);
      return { box: copy, key: k, ad };
    }
    case 'zero':
      if (d.part === 'nonce') copy.fill(0, 0, Math.min(NONCE_BYTES, copy.length));
      else copy.fill(0, Math.max(0, tagStart));
      return { box: copy, key: k, ad };
    case 'key':
      return { box: copy, key: d.key, ad };
    case 'ad':
      return { box: copy, key: k, ad: d.ad };
    case 'junk':
      return { box: Buffer.from(d.bytes), key: k, ad };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * A damaged box never opens. (When the "damage" changed nothing, e.g. a
 * byte set to the value it had, or every part spliced from the other box,
 * the result is an authentic box and must open to the original plaintext.)
 */
export const cryptoTamper: FuzzTarget = {
  name: 'crypto.tamper',
  about:
    'open() of a damaged box (bits, cuts, splices, key, AD, junk) is DECRYPT_FAILED, never plaintext',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        key,
        plaintext,
        associatedData,
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        (k, bytes, ad, damages) => {
          const box = seal(k, bytes, ad);
          // The same plaintext sealed again: another nonce, so every part differs.
          const other = seal(k, bytes, ad);
          let attempt: { box: Buffer; key: Uint8Array; ad: Uint8Array } = { box, key: k, ad };
          for (const d of damages)
            attempt = inflict(d, attempt.box, other, attempt.key, attempt.ad);
          // Splicing every part from the other box rebuilds that box: authentic too.
          const unchanged =
            (sameBytes(attempt.box, box) || sameBytes(attempt.box, other)) &&
            sameBytes(attempt.key, k) &&
            sameBytes(attempt.ad, ad);
          let opened: Buffer;
          try {
            opened = open(attempt.key, attempt.box, attempt.ad);
          } catch (err) {
            if (!(err instanceof ChatError) || err.code !== 'DECRYPT_FAILED') throw err;
            if (unchanged) throw new Error('an undamaged box failed to open');
            return;
          }
          if (!unchanged) throw new Error(`a damaged box opened: ${opened.toString('hex')}`);
          if (!opened.equals(bytes)) throw new Error('wrong plaintext');
        },
      ),
    ),
};

/**
 * openText on a mangled base64 form: either DECRYPT_FAILED, or (only when the
 * mangling decodes to the very same bytes, since Node's base64 decoder skips
 * characters it does not know) the original text. Keys of any other length are
 * BAD_KEY for both seal and open.
 */
export const cryptoText: FuzzTarget = {
  name: 'crypto.text',
  about: 'openText of mangled base64 and keys of every wrong length: typed errors only',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        key,
        message,
        fc.array(
          fc.tuple(fc.nat(), fc.constantFrom('', '=', '*', ' ', '-', '_', 'A', '/', '\n', '==')),
          { maxLength: 4 },
        ),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 64 }).filter((b) => b.length !== KEY_BYTES),
        (k, text, edits, deletions, badKey) => {
          const ad = Buffer.from('["socket-chat",1,"chat","fuzz"]');
          let b64 = sealText(k, text, ad);
          const original = Buffer.from(b64, 'base64');
          for (const at of deletions) {
            const i = at % (b64.length + 1);
            b64 = b64.slice(0, i) + b64.slice(i + 1);
          }
          for (const [at, insert] of edits) {
            const i = at % (b64.length + 1);
            b64 = b64.slice(0, i) + insert + b64.slice(i);
          }
          try {
            const opened = openText(k, b64, ad);
            if (!Buffer.from(b64, 'base64').equals(original) || opened !== text) {
              throw new Error(`mangled base64 ${JSON.stringify(b64)} opened`);
            }
          } catch (err) {
            if (!(err instanceof ChatError) || err.code !== 'DECRYPT_FAILED') throw err;
            if (Buffer.from(b64, 'base64').equals(original)) throw new Error('same bytes failed');
          }
          for (const attempt of [
            () => seal(badKey, original, ad),
            () => open(badKey, original, ad),
          ]) {
            try {
              attempt();
              throw new Error(`a ${badKey.length}-byte key was accepted`);
            } catch (err) {
              if (!(err instanceof ChatError) || err.code !== 'BAD_KEY') throw err;
            }
          }
        },
      ),
    ),
};
