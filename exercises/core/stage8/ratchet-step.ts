/**
 * Exercise "write the core": the ratchet step.
 *
 * Check it with `npm run exercise -- stage8/core`. The task is in
 * stage8-e2e/README.md, section "Exercises"; in short:
 *
 * Given a 32-byte chain key `ck`, return
 *
 * ```text
 * messageKey   = HMAC-SHA256(key = ck, data = the one byte 0x01)
 * nextChainKey = HMAC-SHA256(key = ck, data = the one byte 0x02)
 * ```
 *
 * without changing `ck` itself (the caller erases it). `node:crypto`'s
 * `createHmac` does the HMAC. The checks compare your keys with the published
 * test vectors, and open a message the course's sender sealed at counter 5
 * with the key your ratchet derives after five steps.
 *
 * The course's own version is `ratchetStep` in shared/src/sender-chain.ts:
 * try before you look.
 *
 * @module
 */
import type { RatchetStep } from '../../../shared/src/sender-chain';

/**
 * One step of the sender-key chain.
 *
 * @param chainKey - the current chain key (32 bytes); leave it unchanged
 * @returns the key for this message and the chain key for the next one
 */
export function ratchetStep(chainKey: Uint8Array): RatchetStep {
  void chainKey;
  throw new Error('not written yet: derive the message key and the next chain key with HMAC');
}
