// Write the core of stage 5: seal and open a message with AES-256-GCM, with
// associated data.
//
//   npm run exercise -- stage5/core     checks this file, with real crypto and the real stage 5 server
//
// A box is what travels instead of a message:
//
//   box = nonce (12 bytes) | ciphertext (as long as the plaintext) | tag (16 bytes)
//
// The task: write seal() and open() below, with node:crypto's
// createCipheriv / createDecipheriv and the algorithm 'aes-256-gcm'.
// 1. seal() draws a FRESH RANDOM 12-byte nonce for every box (randomBytes).
//    Never a fixed one, never a counter that starts again at 0: two boxes
//    under one key and one nonce leak the XOR of their plaintexts, and let
//    anyone who sees them forge tags. Every member of the room seals with the
//    same key, so the nonce must be random, not merely new to you.
// 2. Both ends authenticate the associated data (setAAD): bytes that are not
//    encrypted and not sent, but must be the same at both ends, or the box
//    does not open. The room uses it to bind a box to its purpose.
// 3. open() checks the tag (setAuthTag, then final()) and returns the
//    plaintext only if the box is authentic. Anything else (a changed bit,
//    another key, other associated data, a box too short to hold a nonce
//    and a tag) throws new ChatError('DECRYPT_FAILED', ...), the same error
//    for every cause, and returns no byte of plaintext.
//
// The course's version is shared/src/crypto.ts: read it when you are done.
// The reference solution is exercises/solutions/stage5/core.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ChatError } from '../../../shared/src/errors';

/** Nonce (GCM's IV) length in bytes: 96 bits, the size GCM is designed for. */
export const NONCE_BYTES = 12;
/** Tag length in bytes: GCM's full 128-bit tag. */
export const TAG_BYTES = 16;

/**
 * Encrypts and authenticates a message.
 *
 * @param key - the 32-byte room key
 * @param plaintext - the message's bytes
 * @param associatedData - context both ends know; authenticated, not sent
 * @returns `nonce | ciphertext | tag`
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Buffer {
  throw new Error('seal is not written yet');
}

/**
 * Verifies a box and, only if it is authentic, returns its plaintext.
 *
 * @param key - the 32-byte room key
 * @param box - `nonce | ciphertext | tag`, as made by {@link seal}
 * @param associatedData - must equal what the sender sealed with
 * @throws ChatError `DECRYPT_FAILED` if the box is not authentic, for whatever reason
 */
export function open(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Buffer {
  throw new Error('open is not written yet');
}
