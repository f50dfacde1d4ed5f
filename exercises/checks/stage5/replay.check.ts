// Stage 5: refuse replayed messages with a sequence number and a window. The
// task and the stub are in exercises/core/stage5/replay-guard.ts. The last
// checks seal real boxes (AES-256-GCM, the number inside) and replay them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CheckContext, Exercise } from '../../kit/check';
import { seededRandom } from '../../kit/seeded-random';
import { runIsolated } from '../../kit/isolated';

const STARTER = 'exercises/core/stage5/replay-guard.ts';

/** The stub's API (see the starter file). */
interface Guard {
  accept(sender: string, seq: number): boolean;
}
interface Core {
  ReplayGuard: new (options?: { window?: number }) => Guard;
}
interface Crypto {
  seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Buffer;
  open(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Buffer;
}

function guard(ctx: CheckContext, window?: number): Guard {
  const { ReplayGuard } = ctx.load<Core>(STARTER);
  return new ReplayGuard(window === undefined ? {} : { window });
}

/** Offers `seqs` from one sender in order; returns what each got, e.g. "yyn". */
function offer(g: Guard, seqs: number[], sender = 'alice'): string {
  return seqs.map((seq) => (g.accept(sender, seq) ? 'y' : 'n')).join('');
}

export const exercise: Exercise = {
  title: 'Refuse replayed messages: a sequence number and a sliding window',
  readme: 'stage5-aes/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'numbers in order are accepted once; the same number again is refused',
      hint: 'remember, per sender, the highest number accepted; a number equal to it is a replay',
      async run(ctx) {
        const g = guard(ctx);
        assert.equal(offer(g, [0, 1, 2, 3]), 'yyyy', '0, 1, 2, 3');
        assert.equal(offer(g, [3, 3, 2, 0]), 'nnnn', '3 again, then 2 and 0 again');
        assert.equal(offer(g, [4]), 'y', 'then 4');
      },
    },
    {
      name: 'each sender has its own numbers',
      hint: 'keep one record per sender (a Map keyed by sender)',
      async run(ctx) {
        const g = guard(ctx);
        assert.equal(offer(g, [0, 1, 2], 'alice'), 'yyy', "alice's 0, 1, 2");
        assert.equal(offer(g, [0, 1, 2], 'bob'), 'yyy', "bob's 0, 1, 2");
        assert.equal(offer(g, [2], 'alice'), 'n', "alice's 2 again");
      },
    },
    {
      name: 'out of order within the window: each number accepted the first time, refused after',
      hint: 'keep a flag for each of the window numbers below the highest: accept if unset, then set it',
      async run(ctx) {
        const g = guard(ctx, 8);
        assert.equal(offer(g, [10, 7, 9, 8]), 'yyyy', '10, then 7, 9 and 8 late');
        assert.equal(offer(g, [7, 8, 9, 10]), 'nnnn', 'the same four again');
        assert.equal(
          offer(g, [3, 3, 2]),
          'ynn',
          '3 (7 below 10, window 8) twice, then 2 (8 below)',
        );
        // 4 was never sent: it is accepted once, then a replay of it is not.
        const fresh = guard(ctx, 8);
        assert.equal(offer(fresh, [10, 4, 4]), 'yyn', 'a fresh guard: 10, then 4 twice');
      },
    },
    {
      name: 'window or more below the highest: refused, even if never seen',
      hint: 'seq <= highest - window is too old to know; refuse it without looking further',
      async run(ctx) {
        const g = guard(ctx, 8);
        assert.equal(offer(g, [100, 92, 93]), 'yny', '100, then 92 (8 below), then 93 (7 below)');
        const wide = guard(ctx);
        const hundred = Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 50);
        assert.equal(offer(wide, hundred), 'y'.repeat(199), '0 to 199 without 50 (window 64)');
        assert.equal(offer(wide, [50]), 'n', '50, never sent, but 149 below the highest');
      },
    },
    {
      name: 'the window slides: after a jump forward, old flags are forgotten, new gaps are open',
      hint: 'when a higher number comes, shift the flags by the difference (all cleared if it is window or more)',
      async run(ctx) {
        const g = guard(ctx, 8);
        assert.equal(offer(g, [0, 1, 2, 3, 4, 5, 6, 7]), 'yyyyyyyy', '0 to 7');
        assert.equal(offer(g, [12]), 'y', 'then 12');
        assert.equal(offer(g, [4, 5, 6, 7, 8, 9, 10, 11]), 'nnnnyyyy', '4 to 11 after 12');
        assert.equal(offer(g, [30, 23, 22, 28]), 'yyny', '30, 23, 22, 28');
      },
    },
    {
      name: 'numbers that are not sequence numbers are refused: -1, 1.5, NaN, Infinity, 2^53',
      hint: 'accept only Number.isSafeInteger(seq) && seq >= 0, before anything else',
      async run(ctx) {
        const g = guard(ctx);
        assert.equal(offer(g, [5]), 'y', '5');
        for (const bad of [-1, 1.5, 5.5, NaN, Infinity, 2 ** 53]) {
          assert.equal(offer(g, [bad]), 'n', String(bad));
        }
        assert.equal(offer(g, [6]), 'y', '6, after the bad ones');
      },
    },
    {
      name: 'a jump of 2^52 costs no more than a jump of 1 (in a process of its own, 96 MiB)',
      hint: 'never loop or allocate once per number skipped: a jump of window or more simply clears every flag',
      async run(ctx) {
        const got = await runIsolated(
          ctx,
          STARTER,
          `const g = new learner.ReplayGuard();
           const big = 2 ** 52;
           return [0, big, big - 63, big - 64, big, 3, big + 1].map((s) => g.accept('a', s));`,
        ).catch((err: Error) => {
          throw new Error(`accept() after a jump from 0 to 2^52: ${err.message}`);
        });
        assert.deepEqual(
          got,
          [true, true, true, false, false, false, true],
          '0, 2^52, 2^52 - 63, 2^52 - 64, 2^52 again, 3, 2^52 + 1',
        );
      },
    },
    {
      name: 'real boxes: a recorded box sent again opens, and the guard refuses it',
      hint: 'the number travels inside the box; the receiver opens, reads it, and asks the guard',
      async run(ctx) {
        const { seal, open } = ctx.load<Crypto>('shared/src/crypto');
        const key = randomBytes(32);
        const ad = Buffer.from('context: replay check');
        const box = (seq: number, text: string) => {
          const plain = Buffer.alloc(8 + Buffer.byteLength(text));
          plain.writeBigUInt64BE(BigInt(seq));
          plain.write(text, 8);
          return seal(key, plain, ad);
        };
        const g = guard(ctx);
        const receive = (b: Buffer) => {
          const plain = open(key, b, ad); // authentic, whether new or replayed
          return g.accept('alice', Number(plain.readBigUInt64BE(0)))
            ? plain.subarray(8).toString()
            : 'REFUSED';
        };
        const wire = [box(0, 'hi'), box(1, 'transfer 100 coins'), box(2, 'bye')];
        const shown = [...wire, wire[1]!, wire[0]!].map(receive);
        assert.deepEqual(shown, ['hi', 'transfer 100 coins', 'bye', 'REFUSED', 'REFUSED']);
      },
    },
    {
      name: '5000 random arrivals agree with a model that remembers everything, within the window',
      hint: 'the message names the first number that differs and the last few before it',
      async run(ctx) {
        // The model keeps every number seen (fine for a check, not for a
        // server); it judges only with the rules of the starter file.
        for (const window of [1, 5, 64]) {
          const g = guard(ctx, window);
          const seen = new Set<number>();
          let highest = -1;
          const next = seededRandom(window);
          const log: number[] = [];
          let base = 0;
          for (let i = 0; i < 5000; i++) {
            base += Math.floor(next() * 3);
            const seq = Math.max(0, base + Math.floor(next() * 2 * window) - window);
            const expected =
              highest === -1 || seq > highest || (seq > highest - window && !seen.has(seq));
            if (expected) {
              seen.add(seq);
              highest = Math.max(highest, seq);
            }
            log.push(seq);
            assert.equal(
              g.accept('alice', seq),
              expected,
              `window ${window}, arrival ${i}: ${log.slice(-8).join(', ')}`,
            );
          }
        }
      },
    },
  ],
};
