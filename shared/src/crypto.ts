/**
 * Sealed boxes: AES-256-GCM authenticated encryption with a fresh nonce per message.
 *
 * Introduced by stage 5, reused by stage 6. A *box* is what goes on the wire
 * instead of a message:
 *
 * ```text
 * box = nonce (12 bytes) | ciphertext (same length as the plaintext) | tag (16 bytes)
 * ```
 *
 * - The **key** is 32 random bytes (AES-256), shared by every member of the room
 *   and never by the server (see the key-file module).
 * - The **nonce** (GCM's IV) is 12 fresh random bytes for *every* message. GCM is
 *   a counter-mode cipher: two messages sealed under the same key and nonce are
 *   XORed with the same keystream, which leaks the XOR of the plaintexts and the
 *   key that authenticates tags. Random 96-bit nonces make a repeat negligible as
 *   long as one key seals fewer than 2^32 messages ({@link MAX_MESSAGES_PER_KEY}).
 * - The **tag** authenticates the nonce, the ciphertext *and* the associated data.
 *   {@link open} checks it before it returns a single byte of plaintext: any
 *   flipped bit, truncation, wrong key or wrong associated data is the same
 *   `DECRYPT_FAILED` error, and the caller never sees unauthenticated bytes.
 * - **Associated data** is authenticated but not encrypted and not sent: both
 *   ends rebuild it from context (protocol version, frame type, sender...). A box
 *   sealed for one purpose then fails to open in another. Build it with
 *   `associatedData()` from the protocol module so every caller agrees byte for byte.
 *
 * Node's `crypto` module (OpenSSL) does the AES and GHASH work; this file only
 * fixes the choices a learner should not have to make per call site.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ChatError } from './errors';

/** Key length in bytes: AES-256 takes a 256-bit key. */
export const KEY_BYTES = 32;
/** Nonce (IV) length in bytes: 96 bits, the size GCM is designed and analysed for. */
export const NONCE_BYTES = 12;
/** Authentication tag length in bytes: the full 128-bit GCM tag, never truncated. */
export const TAG_BYTES = 16;
/** Bytes a box adds to its plaintext: nonce plus tag. */
export const BOX_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/**
 * How many messages one key may seal with random nonces: 2^32. NIST SP 800-38D
 * caps random-IV GCM there so the chance of any two nonces colliding stays
 * below 2^-32. A chat room is nowhere near it; a busy service must rotate keys.
 */
export const MAX_MESSAGES_PER_KEY = 2 ** 32;

const ALGORITHM = 'aes-256-gcm';

/**
 * Makes a new random key. Everyone in the room needs the same one, so it is
 * made once (by `npm run keygen`) and copied to each member, never per client.
 *
 * @returns 32 bytes from the operating system's CSPRNG
 */
export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Options for {@link seal}. Production code passes none.
 */
export interface SealOptions {
  /**
   * **Test vectors only.** Seal with this 12-byte nonce instead of a fresh
   * random one, so that `tools/wire-vectors.ts` can publish a box that another
   * implementation must reproduce byte for byte.
   *
   * Never pass it anywhere else. GCM's security rests on a nonce never being
   * used twice with one key: a fixed nonce makes every box sealed with it
   * share one keystream, so anyone holding two such boxes learns the XOR of
   * the two plaintexts and can recover GCM's authentication key and forge
   * boxes (stage 5's `nonce-reuse` demo shows it). The vectors use a key that
   * exists only in the vector file, which is why a fixed nonce is harmless there.
   */
  testVectorNonce?: Uint8Array;
}

/**
 * Encrypts and authenticates `plaintext`, returning a box
 * (`nonce | ciphertext | tag`). Sealing the same plaintext twice gives two
 * different boxes, because each call draws a new random nonce.
 *
 * @param key - the 32-byte room key
 * @param plaintext - the bytes to protect (strings: see {@link sealText})
 * @param associatedData - context both ends can rebuild; authenticated, not sent
 * @param options - leave out: its one field exists for test vectors (see {@link SealOptions})
 * @returns the box; its length is `plaintext.length + BOX_OVERHEAD`
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 *
 * @example
 * ```ts
 * const key = generateKey();
 * const ad = Buffer.from('example');
 * const box = seal(key, Buffer.from('hi'), ad);
 * box.length; //=> 30
 * open(key, box, ad).toString(); //=> 'hi'
 * ```
 */
export function seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
  options: SealOptions = {},
): Buffer {
  checkKey(key);
  const nonce = options.testVectorNonce ?? randomBytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) {
    throw new RangeError(`nonce is ${nonce.length} bytes; GCM here uses ${NONCE_BYTES}`);
  }
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]);
}

/**
 * Verifies a box and, only if it is authentic, returns its plaintext.
 *
 * @param key - the 32-byte room key
 * @param box - `nonce | ciphertext | tag`, as made by {@link seal}
 * @param associatedData - must equal, byte for byte, what the sender sealed with
 * @returns the plaintext
 * @throws ChatError `DECRYPT_FAILED` if the box is too short, was changed in any
 *   bit, was sealed with another key or with other associated data
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 */
export function open(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Buffer {
  checkKey(key);
  if (box.length < BOX_OVERHEAD) {
    throw new ChatError('DECRYPT_FAILED', `box is ${box.length} bytes, shorter than nonce + tag`);
  }
  const nonce = box.subarray(0, NONCE_BYTES);
  const ciphertext = box.subarray(NONCE_BYTES, box.length - TAG_BYTES);
  const tag = box.subarray(box.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(tag);
  // update() already produces bytes, but they are unauthenticated until final()
  // has checked the tag: keep them local and return nothing if final() throws.
  const candidate = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    candidate.fill(0);
    throw new ChatError(
      'DECRYPT_FAILED',
      'authentication failed: tampered, truncated, or sealed with another key or context',
    );
  }
  return candidate;
}

/**
 * {@link seal} for text: encodes `text` as UTF-8, seals it, returns the box as
 * standard padded base64, ready for a JSON field.
 *
 * @param key - the 32-byte room key
 * @param text - the message
 * @param associatedData - context both ends can rebuild
 * @returns the box in base64
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 */
export function sealText(key: Uint8Array, text: string, associatedData: Uint8Array): string {
  return seal(key, Buffer.from(text, 'utf8'), associatedData).toString('base64');
}

// ignoreBOM: a leading U+FEFF is part of the message, not a byte-order mark to drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * {@link open} for text: decodes the base64 box, verifies it, and decodes the
 * plaintext as strict UTF-8.
 *
 * @param key - the 32-byte room key
 * @param boxBase64 - the box in base64 (validate it first with the protocol module)
 * @param associatedData - must match what the sender sealed with
 * @returns the message text
 * @throws ChatError `DECRYPT_FAILED` if the box is not authentic, or if its
 *   authentic plaintext is not valid UTF-8 (only a key holder could make that)
 * @throws ChatError `BAD_KEY` if `key` is not 32 bytes
 */
export function openText(key: Uint8Array, boxBase64: string, associatedData: Uint8Array): string {
  const plaintext = open(key, Buffer.from(boxBase64, 'base64'), associatedData);
  try {
    return utf8.decode(plaintext);
  } catch {
    throw new ChatError('DECRYPT_FAILED', 'authentic box, but its plaintext is not UTF-8 text');
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new ChatError('BAD_KEY', `key is ${key.length} bytes; AES-256 needs ${KEY_BYTES}`);
  }
}
