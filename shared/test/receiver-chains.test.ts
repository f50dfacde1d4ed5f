import fc from 'fast-check';
import { seal, open } from '../src/crypto';
import { OpenedCounters } from '../src/opened-counters';
import {
  EPOCHS_KEPT,
  MAX_FORWARD_JUMP,
  MAX_SKIPPED_KEYS,
  ReceiverChains,
} from '../src/receiver-chains';
import { SenderChain, newChainKey, type SenderKey } from '../src/sender-chain';
import { code } from './e2e-fixtures';

const AD = Buffer.from('test');
const NONE = { count: 0, atLeast: false };
const key = (epoch: number, previousEnd = 0): SenderKey => ({
  epoch,
  counter: 0,
  chainKey: newChainKey(),
  previousEnd,
});

/** A sender and one receiver holding its key: seal with `say`, open with `hear`. */
function pair(epoch = 1, counter = 0, opened?: OpenedCounters) {
  const start: SenderKey = { epoch, counter, chainKey: newChainKey() };
  const sender = new SenderChain(start);
  const chains = new ReceiverChains(opened);
  chains.addSenderKey('alice', start);
  const say = (text: string) => {
    const { counter: n, messageKey } = sender.next();
    return { counter: n, box: seal(messageKey, Buffer.from(text), AD) };
  };
  const hear = (msg: { counter: number; box: Buffer }, e = epoch) =>
    chains.withMessageKey('alice', e, msg.counter, (mk) => open(mk, msg.box, AD).toString());
  return { sender, chains, say, hear };
}

describe('receiver chains', () => {
  test('in-order messages open', () => {
    const { say, hear } = pair();
    for (const text of ['a', 'b', 'c']) expect(hear(say(text))).toBe(text);
  });

  test('each open says where the message stood: in order, after a gap, or late', () => {
    const { say, hear, chains } = pair();
    const [m0, m1, m2, m3, m4] = ['0', '1', '2', '3', '4'].map(say);
    hear(m0!);
    expect(chains.lastOpened).toEqual({ skipped: 0, late: false });
    hear(m3!); // 1 and 2 not seen
    expect(chains.lastOpened).toEqual({ skipped: 2, late: false });
    hear(m1!);
    expect(chains.lastOpened).toEqual({ skipped: 0, late: true });
    hear(m4!);
    expect(chains.lastOpened).toEqual({ skipped: 0, late: false });
    // A refusal leaves the last answer as it was.
    expect(() => hear(m4!)).toThrow(code('REPLAYED'));
    expect(chains.lastOpened).toEqual({ skipped: 0, late: false });
    expect(hear(m2!)).toBe('2');
  });

  test("the next epoch's key tells how many of the last epoch's messages never came; they are late, not missing twice", () => {
    const { say, hear, chains, sender } = pair(1, 0);
    const [m0, m1, m2] = ['0', '1', '2'].map(say);
    hear(m0!); // 1 and 2 are withheld, and nothing later in epoch 1 shows it
    const next = { epoch: 2, counter: 0, chainKey: newChainKey(), previousEnd: sender.counter };
    expect(chains.addSenderKey('alice', next)).toEqual({ count: 2, atLeast: false });
    expect(hear(m2!)).toBe('2'); // the old epoch is kept: they still open
    expect(chains.lastOpened).toEqual({ skipped: 0, late: true });
    expect(hear(m1!)).toBe('1');
    expect(chains.lastOpened).toEqual({ skipped: 0, late: true });
  });

  test('an epoch that ended where I stopped reading reports nothing; a first epoch, nothing', () => {
    const { say, hear, chains, sender } = pair(1, 0);
    hear(say('0'));
    expect(chains.addSenderKey('alice', key(2, sender.counter))).toEqual(NONE);
    expect(chains.addSenderKey('bob', key(7, 0))).toEqual(NONE); // nothing of bob's held before
    expect(chains.addSenderKey('bob', key(1_000, 0))).toEqual(NONE); // bob started again
  });

  test('an epoch that never reached me (its key box withheld) is at least its messages missing', () => {
    const { say, hear, chains } = pair(1, 0);
    hear(say('0'));
    // Epoch 2 (3 messages) never came; epoch 3's key says where 2 ended.
    expect(chains.addSenderKey('alice', key(3, 3))).toEqual({ count: 3, atLeast: true });
  });

  test("the count survives the sender's keys being forgotten on a `left` the server made up", () => {
    const { say, hear, chains, sender } = pair(1, 0);
    hear(say('0'));
    say('1'); // withheld
    chains.forgetSender('alice'); // "alice left", said to me alone
    expect(chains.addSenderKey('alice', key(2, sender.counter))).toEqual({
      count: 1,
      atLeast: false,
    });
  });

  test('a replayed message is REPLAYED, whether it came in order or from the window', () => {
    const { say, hear } = pair();
    const [m0, m1, m2] = [say('0'), say('1'), say('2')];
    expect(hear(m0)).toBe('0');
    expect(() => hear(m0)).toThrow(code('REPLAYED'));
    expect(hear(m2)).toBe('2'); // skips 1
    expect(hear(m1)).toBe('1'); // from the window, once
    expect(() => hear(m1)).toThrow(code('REPLAYED'));
    expect(() => hear(m2)).toThrow(code('REPLAYED'));
  });

  test('reordered within the window: each opens exactly once', () => {
    const { say, hear } = pair();
    const sent = Array.from({ length: 6 }, (_, i) => say(`m${i}`));
    for (const i of [3, 0, 5, 1, 4, 2]) expect(hear(sent[i]!)).toBe(`m${i}`);
    for (const msg of sent) expect(() => hear(msg)).toThrow(code('REPLAYED'));
  });

  test(`a jump of ${MAX_FORWARD_JUMP} is accepted; ${MAX_FORWARD_JUMP + 1} is MESSAGE_TOO_FAR_AHEAD and changes nothing`, () => {
    const { say, hear } = pair();
    const sent = Array.from({ length: MAX_FORWARD_JUMP + 2 }, (_, i) => say(`m${i}`));
    expect(() => hear(sent[MAX_FORWARD_JUMP + 1]!)).toThrow(code('MESSAGE_TOO_FAR_AHEAD'));
    expect(hear(sent[MAX_FORWARD_JUMP]!)).toBe(`m${MAX_FORWARD_JUMP}`);
    expect(hear(sent[0]!)).toBe('m0'); // the refused jump did not move anything
  });

  test(`only ${MAX_SKIPPED_KEYS} skipped keys are kept: the oldest beyond that is MESSAGE_TOO_OLD`, () => {
    const { say, hear } = pair();
    const sent = Array.from({ length: MAX_SKIPPED_KEYS + 3 }, (_, i) => say(`m${i}`));
    // Two jumps (one may not exceed MAX_FORWARD_JUMP) that skip 500 + 501 keys: one too many.
    hear(sent[500]!);
    hear(sent[MAX_SKIPPED_KEYS + 2]!);
    expect(() => hear(sent[0]!)).toThrow(code('MESSAGE_TOO_OLD'));
    expect(hear(sent[1]!)).toBe('m1');
    expect(hear(sent[MAX_SKIPPED_KEYS + 1]!)).toBe(`m${MAX_SKIPPED_KEYS + 1}`);
    expect(() => hear(sent[500]!)).toThrow(code('REPLAYED'));
  });

  test('a message sent before the receiver got the key (a newcomer) is MESSAGE_TOO_OLD', () => {
    const start: SenderKey = { epoch: 1, counter: 0, chainKey: newChainKey() };
    const sender = new SenderChain(start);
    const early = sender.next();
    const box = seal(early.messageKey, Buffer.from('before you came'), AD);
    const newcomer = new ReceiverChains();
    newcomer.addSenderKey('alice', sender.senderKey()); // handed the key at counter 1
    expect(() => newcomer.withMessageKey('alice', 1, 0, (mk) => open(mk, box, AD))).toThrow(
      code('MESSAGE_TOO_OLD'),
    );
  });

  test('an unknown sender or epoch is UNKNOWN_EPOCH', () => {
    const { chains } = pair(7);
    const noop = () => 'opened';
    expect(() => chains.withMessageKey('alice', 8, 0, noop)).toThrow(code('UNKNOWN_EPOCH'));
    expect(() => chains.withMessageKey('bob', 7, 0, noop)).toThrow(code('UNKNOWN_EPOCH'));
    expect(chains.withMessageKey('alice', 7, 0, noop)).toBe('opened');
  });

  test('a message that fails to open changes nothing: no step, no stored key, no lost key', () => {
    const { say, hear, chains } = pair();
    const sent = [say('0'), say('1'), say('2')];
    const forged = { counter: 2, box: Buffer.from(sent[2]!.box).fill(0, 12) };
    expect(() => hear(forged)).toThrow(code('DECRYPT_FAILED'));
    expect(hear(sent[0]!)).toBe('0'); // counter 0 is still "next", not a skipped key
    hear(sent[2]!);
    const forgedSkipped = { counter: 1, box: Buffer.alloc(40) };
    expect(() => hear(forgedSkipped)).toThrow(code('DECRYPT_FAILED'));
    expect(hear(sent[1]!)).toBe('1'); // the skipped key survived the forgery
    expect(chains.has('alice', 1)).toBe(true);
  });

  test('epochs only grow: an old or repeated sender key is REPLAYED, even after forgetting the sender', () => {
    const chains = new ReceiverChains();
    chains.addSenderKey('alice', key(5));
    expect(() => chains.addSenderKey('alice', key(5))).toThrow(code('REPLAYED'));
    expect(() => chains.addSenderKey('alice', key(4))).toThrow(code('REPLAYED'));
    chains.forgetSender('alice');
    expect(chains.has('alice', 5)).toBe(false);
    expect(() => chains.addSenderKey('alice', key(5))).toThrow(code('REPLAYED'));
    chains.addSenderKey('alice', key(6));
    expect(chains.has('alice', 6)).toBe(true);
  });

  test(`the last ${EPOCHS_KEPT} epochs of a sender stay open; older ones are dropped`, () => {
    const chains = new ReceiverChains();
    for (const epoch of [1, 2, 3]) {
      chains.addSenderKey('alice', { epoch, counter: 0, chainKey: newChainKey() });
    }
    expect([1, 2, 3].map((e) => chains.has('alice', e))).toEqual([false, true, true]);
  });

  test('property: any delivery order within the window opens each message exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(
            fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
            fc.array(fc.nat({ max: n - 1 }), { maxLength: 10 }), // replays, at random points
          ),
        ),
        ([order, replays]) => {
          const { say, hear } = pair();
          const sent = order.map((_, i) => say(`m${i}`));
          const opened = new Map<number, number>();
          const deliveries = [...order];
          for (const [i, r] of replays.entries())
            deliveries.splice((i * 7) % (deliveries.length + 1), 0, r);
          for (const i of deliveries) {
            try {
              expect(hear(sent[i]!)).toBe(`m${i}`);
              opened.set(i, (opened.get(i) ?? 0) + 1);
            } catch (err) {
              expect(err).toEqual(code('REPLAYED'));
            }
          }
          expect([...opened.keys()].sort((a, b) => a - b)).toEqual([...order.keys()]);
          expect([...opened.values()].every((times) => times === 1)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  describe('across sessions (an opened-counters store)', () => {
    // What a server that recorded a member's traffic replays after the
    // member's next login: an old key box, then the messages it opens.
    test('the same epoch, from an old point of its chain: REPLAYED; the key as it is now still works', () => {
      const opened = OpenedCounters.inMemory();
      const first = pair(1, 0, opened);
      const recordedKey = first.sender.senderKey();
      const recorded = [first.say('a'), first.say('b')];
      for (const m of recorded) first.hear(m);

      const next = new ReceiverChains(opened); // the next session
      expect(() => next.addSenderKey('alice', recordedKey)).toThrow(code('REPLAYED'));
      // The sender hands out its key as it is now: it opens what comes next.
      next.addSenderKey('alice', first.sender.senderKey());
      const later = first.say('c');
      expect(
        next.withMessageKey('alice', 1, later.counter, (mk) => open(mk, later.box, AD).toString()),
      ).toBe('c');
    });

    test('an older epoch: REPLAYED, even when this session has seen nothing of the sender', () => {
      const opened = OpenedCounters.inMemory();
      pair(7, 0, opened);
      const next = new ReceiverChains(opened);
      expect(() =>
        next.addSenderKey('alice', { epoch: 6, counter: 0, chainKey: newChainKey() }),
      ).toThrow(code('REPLAYED'));
      next.addSenderKey('alice', { epoch: 8, counter: 0, chainKey: newChainKey() });
    });
  });
});
