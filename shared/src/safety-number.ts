/**
 * Fingerprints and safety numbers: identity keys as digits people can compare.
 *
 * Introduced by stage 8. The server hands out everyone's public keys, so a
 * dishonest server could hand bob *its own* key labelled "alice" and read
 * along (a man in the middle). The defence is to compare keys outside the
 * server: read them out on a call, or meet. 32 bytes of base64 are hard to
 * read aloud, so, as Signal does, each identity becomes 30 digits:
 *
 * ```text
 * h = SHA-512(record("socket-chat v8 fingerprint", string username, bytes signingKey))
 * repeat 5,200 times: h = SHA-512(h | signingKey)
 * fingerprint = the first 30 bytes of h, as 6 chunks of 5 bytes; each chunk,
 *               read as a big-endian integer, mod 100,000, as 5 digits
 * safety number = the two fingerprints, smaller first: 60 digits
 * ```
 *
 * - **Sorted**, so alice and bob compute the same 60 digits whoever asks.
 * - **The username is hashed in**, so alice's key presented as "carol" gives
 *   another number.
 * - **Only the Ed25519 key** is hashed: it signs the bundle that names the
 *   X25519 key, so verifying it verifies both.
 * - **5,200 iterations** (Signal's choice) make each guess of an attacker
 *   searching for a key with a chosen fingerprint ~5,200 hashes dearer, on top
 *   of the ~2^99 guesses 30 digits already demand; for us it is a few ms.
 * - **My fingerprint** (`/fingerprint`) is my half: it appears as is in every
 *   safety number I share with anyone.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes';
import { E2E_LABELS } from './e2e-labels';

/** SHA-512 iterations per fingerprint (as Signal's safety numbers). */
export const FINGERPRINT_ITERATIONS = 5200;
/** Digits in one fingerprint: 6 groups of 5. */
export const FINGERPRINT_DIGITS = 30;

/** Whose identity: a username and its raw Ed25519 public key. */
export interface NamedKey {
  /** The username. */
  username: string;
  /** The raw 32-byte Ed25519 public key. */
  signingKey: Uint8Array;
}

/**
 * The 30-digit fingerprint of one identity.
 *
 * @param who - username and signing key
 * @returns 30 digits, no spaces (format with {@link formatDigits})
 */
export function fingerprint(who: NamedKey): string {
  let hash = createHash('sha512')
    .update(
      new CanonicalWriter(E2E_LABELS.fingerprint)
        .string(who.username)
        .bytes(who.signingKey)
        .finish(),
    )
    .digest();
  for (let i = 0; i < FINGERPRINT_ITERATIONS; i++) {
    hash = createHash('sha512').update(hash).update(who.signingKey).digest();
  }
  let digits = '';
  for (let offset = 0; offset < 30; offset += 5) {
    const chunk = hash.readUIntBE(offset, 5); // 40 bits: exact in a JS number
    digits += String(chunk % 100_000).padStart(5, '0');
  }
  return digits;
}

/**
 * The 60-digit safety number of two identities; the same from both sides.
 *
 * @param a - one side
 * @param b - the other side
 * @returns 60 digits, no spaces (format with {@link formatDigits})
 */
export function safetyNumber(a: NamedKey, b: NamedKey): string {
  return [fingerprint(a), fingerprint(b)].sort().join('');
}

/**
 * Groups digits by five for reading aloud: `"12345 67890 …"`.
 *
 * @param digits - a fingerprint or safety number
 * @param perLine - groups per line (default all on one line)
 */
export function formatDigits(digits: string, perLine = Infinity): string {
  const groups = digits.match(/\d{1,5}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += perLine)
    lines.push(groups.slice(i, i + perLine).join(' '));
  return lines.join('\n');
}
