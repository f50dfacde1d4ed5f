import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  decodeSenderKey,
  encodeSenderKey,
  MAX_COUNTER,
  newChainKey,
  ratchetStep,
  SENDER_KEY_BYTES,
  SenderChain,
} from '../src/sender-chain';
import { bytesFrom, code } from './e2e-fixtures';

describe('sender chain', () => {
  test("one step is mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02), and leaves ck alone", () => {
    const ck = bytesFrom('chain');
    const copy = Buffer.from(ck);
    const step = ratchetStep(ck);
    const hmac = (byte: number) =>
      createHmac('sha256', copy)
        .update(Buffer.from([byte]))
        .digest();
    expect(step.messageKey.equals(hmac(1))).toBe(true);
    expect(step.nextChainKey.equals(hmac(2))).toBe(true);
    expect(ck.equals(copy)).toBe(true);
  });

  test('a chain hands out consecutive counters, each with a distinct key', () => {
    const chain = new SenderChain({ epoch: 5, counter: 0, chainKey: newChainKey() });
    const keys = Array.from({ length: 50 }, () => chain.next());
    expect(keys.map((k) => k.counter)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(keys.map((k) => k.messageKey.toString('hex'))).size).toBe(50);
    expect(chain.counter).toBe(50);
  });

  test('each step erases the chain key it replaced, and the snapshot at n gives keys from n on', () => {
    const start = bytesFrom('chain');
    const chain = new SenderChain({ epoch: 1, counter: 0, chainKey: start });
    expect(start.equals(bytesFrom('chain'))).toBe(true); // the caller's copy is not touched
    // Reach inside: the old chain key's bytes must be zero once replaced.
    const held = () => (chain as unknown as { chainKey: Buffer }).chainKey;
    const before = held();
    chain.next();
    expect(before.equals(Buffer.alloc(32))).toBe(true);
    const snapshot = chain.senderKey();
    expect(snapshot.counter).toBe(1);
    const fromSnapshot = new SenderChain(snapshot);
    expect(fromSnapshot.next().messageKey.equals(chain.next().messageKey)).toBe(true);
  });

  test('a later chain key cannot give an earlier message key (checked against every key seen)', () => {
    // Not a proof of one-wayness (HMAC gives that); a check that the state
    // after n holds nothing equal to any key before n.
    const chain = new SenderChain({ epoch: 1, counter: 0, chainKey: newChainKey() });
    const early = Array.from({ length: 10 }, () => chain.next().messageKey.toString('hex'));
    const later = chain.senderKey().chainKey;
    const derived = new SenderChain({ epoch: 1, counter: 10, chainKey: later });
    for (let i = 0; i < 100; i++) {
      expect(early).not.toContain(derived.next().messageKey.toString('hex'));
    }
  });

  test('the counter space ends at 2^32 - 1: the chain then refuses, and says a new epoch is due', () => {
    const chain = new SenderChain({ epoch: 1, counter: MAX_COUNTER, chainKey: newChainKey() });
    expect(chain.exhausted).toBe(false);
    expect(chain.next().counter).toBe(MAX_COUNTER);
    expect(chain.exhausted).toBe(true);
    expect(() => chain.next()).toThrow(/new epoch/);
  });

  test('a sender key survives encoding: any epoch up to 2^53 - 1, any u32 counter, any end up to 2^32', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: MAX_COUNTER }),
        fc.integer({ min: 0, max: MAX_COUNTER + 1 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (epoch, counter, previousEnd, raw) => {
          const key = { epoch, counter, previousEnd, chainKey: Buffer.from(raw) };
          expect(decodeSenderKey(encodeSenderKey(key))).toEqual(key);
        },
      ),
    );
  });

  test('a sender key of the wrong size, or with an epoch JSON cannot carry, or an end past 2^32, is BAD_FRAME', () => {
    expect(() => decodeSenderKey(Buffer.alloc(SENDER_KEY_BYTES - 1))).toThrow(code('BAD_FRAME'));
    const huge = Buffer.alloc(SENDER_KEY_BYTES);
    huge.writeBigUInt64BE(2n ** 60n);
    expect(() => decodeSenderKey(huge)).toThrow(code('BAD_FRAME'));
    const pastTheEnd = Buffer.alloc(SENDER_KEY_BYTES);
    pastTheEnd.writeBigUInt64BE(2n ** 32n + 1n, 12);
    expect(() => decodeSenderKey(pastTheEnd)).toThrow(code('BAD_FRAME'));
  });

  test("a new epoch's key says where the one before ended; a chain hands that on", () => {
    const chain = new SenderChain({
      epoch: 2,
      counter: 0,
      chainKey: newChainKey(),
      previousEnd: 7,
    });
    chain.next();
    expect(chain.senderKey()).toMatchObject({ epoch: 2, counter: 1, previousEnd: 7 });
  });
});
