/**
 * The sender-key chain: one hash ratchet per (sender, epoch) that yields a
 * fresh message key for every room message.
 *
 * Introduced by stage 8. This is the symmetric half of Signal's sender keys
 * (and of Matrix's Megolm). A sender draws a random 32-byte *chain key* for
 * each epoch and hands it, with the epoch and its current counter, to every
 * other member in a pairwise box. Then, per message:
 *
 * ```text
 * mk  = HMAC-SHA256(ck, 0x01)     the message key: seals this message only
 * ck' = HMAC-SHA256(ck, 0x02)     the next chain key; ck is then erased
 * ```
 *
 * Both sides step the same chain, so both derive the same `mk` for counter
 * `n` without another word. Two constants under one key give two independent
 * outputs (HMAC is a pseudorandom function), so `mk` says nothing about `ck'`.
 *
 * **Forward secrecy.** HMAC is one-way: from `ck'` no one can compute `ck`,
 * and so no earlier `mk`. Someone who steals a member's state at counter 100
 * (a memory dump, a laptop seized) reads message 100 onwards, never 0-99,
 * provided the old chain keys were really erased. Hence every step here
 * overwrites the old key's bytes. (JavaScript cannot promise that no copy
 * survives in freed memory; erasing what we hold is the part we control.)
 *
 * The reverse does not hold: whoever holds `ck` at counter n derives every
 * later key of that epoch. That is why a member who leaves makes everyone
 * start a new epoch (see the sender-state module), and why a newcomer is given
 * the chain key at the *current* counter: it can read from there on, not back.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ChatError } from './errors';

/** A chain key's length: the output of HMAC-SHA256. */
export const CHAIN_KEY_BYTES = 32;
/** The largest counter: counters are u32 in every signed record. */
export const MAX_COUNTER = 0xffff_ffff;
/**
 * Bytes of an encoded {@link SenderKey}: u64 epoch, u32 counter, u64 end of
 * the previous epoch (it can be 2³², one past the last u32), chain key.
 */
export const SENDER_KEY_BYTES = 8 + 4 + 8 + CHAIN_KEY_BYTES;

const MESSAGE_KEY_INPUT = Buffer.from([0x01]);
const CHAIN_KEY_INPUT = Buffer.from([0x02]);

/** What a member needs to read a sender's messages from `counter` on. */
export interface SenderKey {
  /** The epoch: a new one starts after any member leaves. */
  epoch: number;
  /** The counter of the next message this chain key seals. */
  counter: number;
  /** The chain key at `counter` (32 bytes). */
  chainKey: Buffer;
  /**
   * Where the sender's previous epoch (`epoch - 1`) ended: the counter after
   * its last message; 0 if none was sent, or there was no previous epoch.
   * A member who held that epoch compares it with what it read: the server
   * can drop an epoch's last messages, but not without this showing it.
   * Absent: 0.
   */
  previousEnd?: number;
}

/** One step's output: the key for this message, and the chain key for the next. */
export interface RatchetStep {
  /** Seals exactly one message, then is erased. */
  messageKey: Buffer;
  /** Replaces the chain key; the old one must be erased. */
  nextChainKey: Buffer;
}

/** A fresh random chain key, for a new epoch. */
export function newChainKey(): Buffer {
  return randomBytes(CHAIN_KEY_BYTES);
}

// #region ratchet
/**
 * One step of the chain: `mk = HMAC(ck, 0x01)`, `ck' = HMAC(ck, 0x02)`. Pure:
 * it leaves `chainKey` as it is; {@link SenderChain} erases it.
 *
 * @param chainKey - the current chain key (32 bytes)
 * @returns the message key for this counter and the next chain key
 */
export function ratchetStep(chainKey: Uint8Array): RatchetStep {
  if (chainKey.length !== CHAIN_KEY_BYTES) {
    throw new RangeError(`a chain key is ${CHAIN_KEY_BYTES} bytes, not ${chainKey.length}`);
  }
  return {
    messageKey: createHmac('sha256', chainKey).update(MESSAGE_KEY_INPUT).digest(),
    nextChainKey: createHmac('sha256', chainKey).update(CHAIN_KEY_INPUT).digest(),
  };
}
// #endregion ratchet

/**
 * The sending end of a chain: hands out one message key per counter and keeps
 * nothing older than the current chain key.
 *
 * @example
 * ```ts
 * const chain = new SenderChain({ epoch: 1, counter: 0, chainKey: newChainKey() });
 * const first = chain.next(); // { counter: 0, messageKey }
 * chain.counter; //=> 1
 * ```
 */
export class SenderChain {
  /** The epoch this chain belongs to. */
  readonly epoch: number;
  private readonly previousEnd: number;
  private chainKey: Buffer;
  private nextCounter: number;

  /**
   * @param start - the epoch, the first counter, and the chain key (copied)
   */
  constructor(start: SenderKey) {
    if (start.chainKey.length !== CHAIN_KEY_BYTES) throw new RangeError('bad chain key length');
    this.epoch = start.epoch;
    this.previousEnd = start.previousEnd ?? 0;
    this.nextCounter = start.counter;
    this.chainKey = Buffer.from(start.chainKey);
  }

  /** The counter the next message will carry. */
  get counter(): number {
    return this.nextCounter;
  }

  /** Whether the counter space is used up, so the sender must start a new epoch. */
  get exhausted(): boolean {
    return this.nextCounter > MAX_COUNTER;
  }

  /**
   * The chain key at the current counter, copied: what a member joining now
   * receives. It opens this message and later ones, none before.
   */
  senderKey(): SenderKey {
    return {
      epoch: this.epoch,
      counter: this.nextCounter,
      chainKey: Buffer.from(this.chainKey),
      previousEnd: this.previousEnd,
    };
  }

  /**
   * Takes the message key for the current counter and steps the chain,
   * erasing the old chain key.
   *
   * @returns the counter to put in the message and its key (erase it after sealing)
   */
  next(): {
    /** The counter this message carries. */
    counter: number;
    /** Its message key: seal once, then erase. */
    messageKey: Buffer;
  } {
    if (this.exhausted) throw new Error('chain exhausted: start a new epoch');
    const { messageKey, nextChainKey } = ratchetStep(this.chainKey);
    this.chainKey.fill(0);
    this.chainKey = nextChainKey;
    return { counter: this.nextCounter++, messageKey };
  }

  /** Erases the chain key (the epoch is over). */
  wipe(): void {
    this.chainKey.fill(0);
  }
}

/**
 * Encodes a sender key for a pairwise box: u64 epoch, u32 counter, u64 end
 * of the previous epoch, chain key.
 *
 * @param key - the sender key
 * @returns {@link SENDER_KEY_BYTES} bytes
 */
export function encodeSenderKey(key: SenderKey): Buffer {
  const out = Buffer.alloc(SENDER_KEY_BYTES);
  out.writeBigUInt64BE(BigInt(key.epoch), 0);
  out.writeUInt32BE(key.counter, 8);
  out.writeBigUInt64BE(BigInt(key.previousEnd ?? 0), 12);
  Buffer.from(key.chainKey).copy(out, 20);
  return out;
}

/**
 * Decodes a sender key from an opened pairwise box.
 *
 * @param bytes - the box's plaintext
 * @throws ChatError `BAD_FRAME` if it is not {@link SENDER_KEY_BYTES} bytes, the epoch is
 *   beyond what JSON can carry exactly, or the previous epoch's end is past 2³² (only a
 *   broken sender, who signed it, can cause any of these)
 */
export function decodeSenderKey(bytes: Uint8Array): SenderKey {
  const buffer = Buffer.from(bytes);
  if (buffer.length !== SENDER_KEY_BYTES) {
    throw new ChatError('BAD_FRAME', `a sender key is ${SENDER_KEY_BYTES} bytes`);
  }
  const epoch = buffer.readBigUInt64BE(0);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ChatError('BAD_FRAME', 'sender key epoch too large');
  }
  const previousEnd = buffer.readBigUInt64BE(12);
  if (previousEnd > BigInt(MAX_COUNTER) + 1n) {
    throw new ChatError('BAD_FRAME', "sender key's previous epoch ends past the last counter");
  }
  return {
    epoch: Number(epoch),
    counter: buffer.readUInt32BE(8),
    chainKey: buffer.subarray(20),
    previousEnd: Number(previousEnd),
  };
}
