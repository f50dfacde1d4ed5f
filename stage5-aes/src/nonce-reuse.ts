/**
 * What a fixed IV costs: the original course's "one key and one IV for
 * everyone", attacked. **Teaching code: never seal with a fixed nonce.**
 *
 * AES-GCM encrypts in counter mode: the key and the nonce produce a keystream,
 * and `ciphertext = plaintext XOR keystream`. The tag is a polynomial in the
 * ciphertext evaluated at a secret point `H` (the GHASH key), masked with one
 * more keystream block. Both halves are safe only if a nonce is never reused
 * with the same key. Reuse it and:
 *
 * 1. the same message gives the same ciphertext, so an observer sees repeats;
 * 2. two messages share a keystream, so `C1 XOR C2 = P1 XOR P2`: knowing (or
 *    guessing) one message reveals the other;
 * 3. the two tags differ by `(C1 XOR C2) · H²` in GF(2^128) (for one-block
 *    messages with equal associated data), so the attacker can solve for `H²`
 *    and compute a valid tag for a ciphertext of their choosing: a forgery
 *    that `open()` accepts with the real key.
 *
 * {@link runNonceReuseDemo} performs all three against the real `seal`/`open`
 * layout, and `bin/fixed-iv-demo.ts` prints the result.
 *
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { generateKey, NONCE_BYTES, open, seal, TAG_BYTES } from '../../shared/src/crypto';
import { chatAssociatedData } from './messages';

/** A ciphertext and its tag, as sealed under a nonce the caller chose. */
export interface SealedParts {
  /** The encrypted bytes, as long as the plaintext. */
  ciphertext: Buffer;
  /** The 16-byte GCM tag. */
  tag: Buffer;
}

/**
 * AES-256-GCM with a caller-chosen nonce: the mistake this module exists to
 * show. `shared/src/crypto.ts` always draws a fresh random nonce; its one
 * escape hatch (`testVectorNonce`) exists only to publish fixed test vectors.
 *
 * @param key - 32 bytes
 * @param nonce - 12 bytes, reused on purpose
 * @param plaintext - the message
 * @param associatedData - authenticated context
 */
export function sealWithFixedNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): SealedParts {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** XOR of two byte strings, as long as the shorter one. */
export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.min(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

// GF(2^128) as GCM defines it (NIST SP 800-38D, Algorithm 1): a 16-byte block
// is a polynomial whose x^0 coefficient is the *first* (most significant) bit.
const R = 0xe1n << 120n;
const ONE = 1n << 127n;

/** A block of up to 16 bytes (zero-padded, as GHASH pads) as a 128-bit number. */
export function toBlock(bytes: Uint8Array): bigint {
  const padded = Buffer.alloc(16);
  Buffer.from(bytes).copy(padded, 0, 0, 16);
  return BigInt('0x' + padded.toString('hex'));
}

/** A 128-bit number back to 16 bytes. */
export function fromBlock(block: bigint): Buffer {
  return Buffer.from(block.toString(16).padStart(32, '0'), 'hex');
}

/** Multiplication in GCM's GF(2^128). */
export function gfMultiply(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

/** The multiplicative inverse in GF(2^128): x^(2^128 - 2). `x` must not be 0. */
export function gfInverse(x: bigint): bigint {
  let result = ONE;
  let base = x;
  for (let e = (1n << 128n) - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = gfMultiply(result, base);
    base = gfMultiply(base, base);
  }
  return result;
}

/**
 * Computes a valid tag for ciphertext `c3`, without the key, from two messages
 * sealed under the same key, nonce and associated data. All three ciphertexts
 * must have the same length, at most 16 bytes (one block).
 *
 * @returns the forged tag for `c3`
 */
export function forgeTag(first: SealedParts, second: SealedParts, c3: Uint8Array): Buffer {
  const [c1, c2] = [first.ciphertext, second.ciphertext];
  // tag1 XOR tag2 = (C1 XOR C2) · H²: the keystream mask and every shared term cancel.
  const hSquared = gfMultiply(toBlock(xor(first.tag, second.tag)), gfInverse(toBlock(xor(c1, c2))));
  // tag3 = tag1 XOR (C1 XOR C3) · H², by the same algebra.
  return xor(first.tag, fromBlock(gfMultiply(toBlock(xor(c1, c3)), hSquared)));
}

/** What {@link runNonceReuseDemo} found; every buffer is shown in hex by the script. */
export interface NonceReuseReport {
  /** `yes` sealed twice under the fixed nonce: the two boxes (nonce, ciphertext, tag). */
  repeated: [Buffer, Buffer];
  /** `yes` sealed twice with `seal()` (fresh nonces): the two boxes. */
  fresh: [Buffer, Buffer];
  /** The two messages the victims sent, and the one the attacker knew. */
  messages: {
    /** A message the attacker knows (e.g. a predictable greeting). */
    known: string;
    /** The message the attacker wants to read. */
    secret: string;
    /** The message the attacker wants to slip in. */
    forged: string;
  };
  /** The two ciphertexts, and their XOR (equal to the plaintexts' XOR). */
  ciphertexts: [Buffer, Buffer];
  /** What the attacker recovered of the secret message. */
  recovered: string;
  /** What the receiver's `open()` returned for the forged box (the forged text). */
  forgeryOpened: string;
  /** Whether the same forgery against fresh-nonce boxes was rejected. */
  freshForgeryRejected: boolean;
}

/**
 * Runs the three attacks with a random key and a fixed all-zero nonce.
 *
 * @returns what each attack produced
 */
export function runNonceReuseDemo(): NonceReuseReport {
  const key = generateKey();
  const nonce = Buffer.alloc(NONCE_BYTES); // the bug: the same IV for every message
  const ad = chatAssociatedData();
  const yes = Buffer.from('yes');
  const fixedBox = () => {
    const { ciphertext, tag } = sealWithFixedNonce(key, nonce, yes, ad);
    return Buffer.concat([nonce, ciphertext, tag]);
  };
  const repeated: [Buffer, Buffer] = [fixedBox(), fixedBox()];
  const fresh: [Buffer, Buffer] = [seal(key, yes, ad), seal(key, yes, ad)];

  const messages = {
    known: 'meet at the dock',
    secret: 'bring the money!',
    forged: 'abort, go home!!',
  };
  const first = sealWithFixedNonce(key, nonce, Buffer.from(messages.known), ad);
  const second = sealWithFixedNonce(key, nonce, Buffer.from(messages.secret), ad);
  // Attack 2: P2 = C1 XOR C2 XOR P1.
  const recovered = xor(xor(first.ciphertext, second.ciphertext), Buffer.from(messages.known));
  // Attack 3: the keystream is C1 XOR P1; encrypt our own text with it, then forge its tag.
  const keystream = xor(first.ciphertext, Buffer.from(messages.known));
  const c3 = xor(Buffer.from(messages.forged), keystream);
  const forgedBox = Buffer.concat([nonce, c3, forgeTag(first, second, c3)]);
  const forgeryOpened = open(key, forgedBox, ad).toString();

  // The same arithmetic on two honest boxes: different nonces, nothing cancels.
  const split = (box: Buffer): SealedParts => ({
    ciphertext: box.subarray(NONCE_BYTES, box.length - TAG_BYTES),
    tag: box.subarray(box.length - TAG_BYTES),
  });
  const a = seal(key, Buffer.from(messages.known), ad);
  const b = seal(key, Buffer.from(messages.secret), ad);
  const c3Fresh = xor(
    Buffer.from(messages.forged),
    xor(split(a).ciphertext, Buffer.from(messages.known)),
  );
  const attempt = Buffer.concat([
    a.subarray(0, NONCE_BYTES),
    c3Fresh,
    forgeTag(split(a), split(b), c3Fresh),
  ]);
  let freshForgeryRejected = false;
  try {
    open(key, attempt, ad);
  } catch {
    freshForgeryRejected = true;
  }

  return {
    repeated,
    fresh,
    messages,
    ciphertexts: [first.ciphertext, second.ciphertext],
    recovered: recovered.toString(),
    forgeryOpened,
    freshForgeryRejected,
  };
}
