/**
 * Exercise (stage 8's second, after the core): the signature check of a room message.
 *
 * Check it with `npm run exercise -- stage8/verify`. The task is in
 * stage8-e2e/README.md, section "Exercises"; in short:
 *
 * Throw `new ChatError('BAD_SIGNATURE', …)` unless `senderKey` signed exactly
 * this message. The signature covers this record (build it with
 * `CanonicalWriter` from shared/src/canonical-bytes.ts and the label from
 * shared/src/e2e-labels.ts):
 *
 * ```text
 * record("socket-chat v8 room message signature",
 *        string sender, u64 epoch, u32 counter, bytes box)
 * ```
 *
 * and Ed25519 checks it with `crypto.verify(null, record, senderKey, signature)`.
 * Never verify over JSON text, and never over fewer fields than all four: a
 * field left out is a field anyone can change.
 *
 * The course's own version is `verifyRoomMessage` in
 * shared/src/room-message.ts: try before you look.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { RoomMessage } from '../../../shared/src/room-message';

/**
 * Checks a room message's signature.
 *
 * @param message - sender, epoch, counter, box and signature, decoded
 * @param senderKey - the Ed25519 public key recorded for `message.sender`
 * @throws ChatError `BAD_SIGNATURE` if `senderKey` did not sign exactly this message
 */
export function checkSignature(message: RoomMessage, senderKey: KeyObject): void {
  void message;
  void senderKey;
  throw new Error('not written yet: build the signed record and verify it with crypto.verify');
}
