// Stage 8, "write the core": the ratchet step. The task is in
// stage8-e2e/README.md, section "Exercises"; the stub the learner fills is
// exercises/core/stage8/ratchet-step.ts.
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';

interface Step {
  messageKey: Uint8Array;
  nextChainKey: Uint8Array;
}
/** The learner's stub. */
interface Stub {
  ratchetStep(chainKey: Uint8Array): Step;
}
/** What the check uses from the course (its API does not change). */
interface Chain {
  SenderChain: new (start: { epoch: number; counter: number; chainKey: Buffer }) => {
    next(): { counter: number; messageKey: Buffer };
  };
}
interface Crypto {
  seal(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer;
  open(key: Uint8Array, box: Uint8Array, ad: Uint8Array): Buffer;
}

// The first two steps of the published chain (docs/e2e-vectors.json, "chain").
const VECTOR = {
  chainKey: '2805dfa45fb010dfbe983dd1f27da9a0349e3daad410e389cf94623e805684d7',
  steps: [
    {
      messageKey: '3c85663b745653e06d2ae36435f03ffbbf26884570c9fb9e0481cba8a93201a0',
      nextChainKey: '51ff010539491dac62d162eb9b4c27d7bef46ad9af54045b1bcc1ce85f1837b0',
    },
    {
      messageKey: 'b7aa5bdffed01561c4e8ae6e7e8f115458c766a3d01037ee02c9cd9db87c0671',
      nextChainKey: 'd6431e7696214098ce01d63c7a0c032a5b8845c6e927b22e5a93b8d9fe8b7502',
    },
  ],
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const step = (ctx: CheckContext, chainKey: Uint8Array) =>
  ctx.load<Stub>('exercises/core/stage8/ratchet-step').ratchetStep(chainKey);

export const exercise: Exercise = {
  title: 'Write the core: the ratchet step (message key and next chain key)',
  readme: 'stage8-e2e/README.md',
  starter: 'exercises/core/stage8/ratchet-step.ts',
  checks: [
    {
      name: 'both keys are 32 bytes, and they differ',
      hint: 'HMAC-SHA256 gives 32 bytes; the message key and the next chain key use different data bytes',
      async run(ctx) {
        const out = step(ctx, Buffer.from(VECTOR.chainKey, 'hex'));
        expectSame(out.messageKey.length, 32, 'message key length');
        expectSame(out.nextChainKey.length, 32, 'next chain key length');
        assert.notEqual(hex(out.messageKey), hex(out.nextChainKey), 'the two keys are equal');
      },
    },
    {
      name: 'the message key is HMAC-SHA256(ck, 0x01), as in the published vectors',
      hint: "createHmac('sha256', chainKey).update(Buffer.from([0x01])).digest(): the key is the chain key, the data one byte",
      async run(ctx) {
        const out = step(ctx, Buffer.from(VECTOR.chainKey, 'hex'));
        expectSame(hex(out.messageKey), VECTOR.steps[0]!.messageKey, 'message key');
      },
    },
    {
      name: 'the next chain key is HMAC-SHA256(ck, 0x02), and the chain continues from it',
      hint: "the same HMAC with the byte 0x02; the second step starts from the first step's next chain key",
      async run(ctx) {
        const first = step(ctx, Buffer.from(VECTOR.chainKey, 'hex'));
        expectSame(hex(first.nextChainKey), VECTOR.steps[0]!.nextChainKey, 'next chain key');
        const second = step(ctx, first.nextChainKey);
        expectSame(hex(second.messageKey), VECTOR.steps[1]!.messageKey, 'second message key');
        expectSame(hex(second.nextChainKey), VECTOR.steps[1]!.nextChainKey, 'second chain key');
      },
    },
    {
      name: 'the chain key passed in is left unchanged',
      hint: 'ratchetStep is pure: the caller erases the old chain key, not ratchetStep',
      async run(ctx) {
        const chainKey = Buffer.from(VECTOR.chainKey, 'hex');
        step(ctx, chainKey);
        expectSame(hex(chainKey), VECTOR.chainKey, 'the chain key after the step');
      },
    },
    {
      name: "your keys open a message the course's sender sealed at counter 5",
      hint: 'step five times, each from the previous next chain key; the sixth message key opens counter 5',
      async run(ctx) {
        const { SenderChain } = ctx.load<Chain>('shared/src/sender-chain');
        const { seal, open } = ctx.load<Crypto>('shared/src/crypto');
        const start = Buffer.from(VECTOR.chainKey, 'hex');
        const sender = new SenderChain({ epoch: 1, counter: 0, chainKey: start });
        const ad = Buffer.from('exercise');
        let box: Buffer | undefined;
        for (let i = 0; i <= 5; i++) {
          const { messageKey } = sender.next();
          if (i === 5) box = seal(messageKey, Buffer.from('counter five'), ad);
        }
        let chainKey: Uint8Array = start;
        let messageKey: Uint8Array = Buffer.alloc(0);
        for (let i = 0; i <= 5; i++) {
          const out = step(ctx, chainKey);
          messageKey = out.messageKey;
          chainKey = out.nextChainKey;
        }
        let text: string;
        try {
          text = open(messageKey, box!, ad).toString();
        } catch {
          throw new Error('the message key you derived for counter 5 does not open the message');
        }
        expectSame(text, 'counter five', 'the opened message');
      },
    },
  ],
};
