// Stage 6: write a token bucket. The task and the stub are in
// exercises/core/stage6/token-bucket.ts. Every check drives the bucket with a
// fake clock, moved by hand: no sleeps, and the same result on a busy machine.
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { seededRandom } from '../../kit/seeded-random';

const STARTER = 'exercises/core/stage6/token-bucket.ts';

/** The stub's API (see the starter file). */
interface Bucket {
  take(): boolean;
  giveBack(): void;
  waitMs(): number;
}
interface Core {
  TokenBucket: new (limit: { capacity: number; refillMs: number }, now: () => number) => Bucket;
}

/** A bucket from the learner's file on a fake clock, and the hand that moves the clock. */
function bucket(ctx: CheckContext, capacity = 3, refillMs = 1000) {
  const { TokenBucket } = ctx.load<Core>(STARTER);
  const clock = { ms: 1_700_000_000_000 };
  const b = new TokenBucket({ capacity, refillMs }, () => clock.ms);
  return {
    b,
    advance: (ms: number) => void (clock.ms += ms),
    /** Calls take() n times and returns what each said, e.g. "yyn". */
    takes: (n: number) => Array.from({ length: n }, () => (b.take() ? 'y' : 'n')).join(''),
  };
}

export const exercise: Exercise = {
  title: 'A token bucket: take, give back and refill on an injected clock',
  readme: 'stage6-auth/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'a new bucket is full: capacity 3 gives three takes, then a refusal',
      hint: 'start with `capacity` tokens; take() says true while there is a whole token and then false',
      async run(ctx) {
        const { takes } = bucket(ctx);
        assert.equal(takes(5), 'yyynn', 'five takes at the same instant (y = true, n = false)');
      },
    },
    {
      name: 'one token comes back per refillMs, read from the clock passed in',
      hint: 'in take(), first add (now() - last look) / refillMs tokens; use the injected now(), never Date.now() or a timer',
      async run(ctx) {
        const { takes, advance } = bucket(ctx);
        takes(3);
        advance(999);
        assert.equal(takes(1), 'n', 'after 999 ms of 1000');
        advance(1);
        assert.equal(takes(2), 'yn', 'after 1000 ms');
        advance(2000);
        assert.equal(takes(3), 'yyn', 'after 2000 ms more');
      },
    },
    {
      name: 'refused takes cost nothing: ten of them, then one refillMs, and a take works',
      hint: 'when there is no whole token, return false without subtracting anything (never below zero)',
      async run(ctx) {
        const { takes, advance } = bucket(ctx);
        takes(3);
        assert.equal(takes(10), 'nnnnnnnnnn', 'ten takes on an empty bucket');
        advance(1000);
        assert.equal(takes(2), 'yn', 'one refillMs after the refusals');
      },
    },
    {
      name: 'fractions add up: a look every 250 ms earns a token after four of them',
      hint: 'keep the fractional tokens (or the exact time of the last look); rounding down and restarting the clock at each look loses them',
      async run(ctx) {
        const { b, takes, advance } = bucket(ctx);
        takes(3);
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) {
          advance(250);
          seen.push(takes(1));
        }
        advance(250);
        seen.push(takes(1));
        assert.equal(seen.join(''), 'nnny', 'takes at 250, 500, 750 and 1000 ms');
        for (let i = 0; i < 4; i++) {
          advance(250);
          b.waitMs();
        }
        assert.equal(takes(2), 'yn', 'after four waitMs() looks 250 ms apart');
      },
    },
    {
      name: 'never above capacity: after an hour alone, still only three takes',
      hint: 'after adding what the time earned, cap the tokens at capacity (Math.min)',
      async run(ctx) {
        const { takes, advance } = bucket(ctx);
        takes(1);
        advance(3_600_000);
        assert.equal(takes(5), 'yyynn', 'five takes after an hour');
        advance(1000);
        assert.equal(takes(2), 'yn', 'and one refillMs later');
      },
    },
    {
      name: 'giveBack() returns one token, never above capacity',
      hint: 'giveBack adds 1 after the refill, then caps at capacity like the refill does',
      async run(ctx) {
        const full = bucket(ctx);
        for (let i = 0; i < 5; i++) full.b.giveBack();
        assert.equal(full.takes(5), 'yyynn', 'a full bucket given five tokens back');
        const empty = bucket(ctx);
        empty.takes(3);
        empty.b.giveBack();
        assert.equal(empty.takes(2), 'yn', 'an empty bucket given one token back');
        empty.advance(500);
        empty.b.giveBack();
        empty.advance(500);
        assert.equal(empty.takes(3), 'yyn', 'half a token earned, one given back, half earned');
      },
    },
    {
      name: 'waitMs() says how long until the next token: 0, 1000, 750, 0',
      hint: 'waitMs is 0 with a whole token, else Math.ceil((1 - tokens) * refillMs), after the refill',
      async run(ctx) {
        const { b, takes, advance } = bucket(ctx);
        assert.equal(b.waitMs(), 0, 'a full bucket');
        takes(3);
        assert.equal(b.waitMs(), 1000, 'just emptied');
        advance(250);
        assert.equal(b.waitMs(), 750, '250 ms later');
        advance(750);
        assert.equal(b.waitMs(), 0, 'one refillMs after emptying');
        assert.equal(takes(1), 'y', 'and the token is there');
      },
    },
    {
      name: '2000 random steps agree with a model bucket (takes, give-backs, waits, time)',
      hint: 'the message names the first step that differs; the model refills, caps, then acts',
      async run(ctx) {
        const { b, advance } = bucket(ctx, 4, 1000);
        // The model: the rules above, written the plain way. Steps of 125 ms
        // keep every amount an exact binary fraction, so no rounding differs.
        let tokens = 4;
        const next = seededRandom(6);
        const log: string[] = [];
        for (let step = 0; step < 2000; step++) {
          const ms = 125 * Math.floor(next() * 12);
          advance(ms);
          tokens = Math.min(4, tokens + ms / 1000);
          const roll = next();
          let expected: unknown;
          let got: unknown;
          if (roll < 0.6) {
            expected = tokens >= 1;
            if (tokens >= 1) tokens -= 1;
            got = b.take();
            log.push(`+${ms}ms take`);
          } else if (roll < 0.75) {
            tokens = Math.min(4, tokens + 1);
            got = expected = undefined;
            b.giveBack();
            log.push(`+${ms}ms giveBack`);
          } else {
            expected = tokens >= 1 ? 0 : Math.ceil((1 - tokens) * 1000);
            got = b.waitMs();
            log.push(`+${ms}ms waitMs`);
          }
          assert.deepEqual(
            got,
            expected,
            `capacity 4, refillMs 1000, step ${step}: ${log.slice(-6).join(', ')}`,
          );
        }
      },
    },
  ],
};
