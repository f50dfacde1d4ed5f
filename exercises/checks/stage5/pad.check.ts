// Stage 5: hide message lengths by padding before sealing. The task is in
// stage5-aes/README.md, section "Exercises".
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { connectLines } from '../../kit/lines';
import { startClient } from './clients';

/** What this exercise uses from stage 5 and shared/ (their APIs do not change). */
interface Sealing {
  sealMessage(key: Uint8Array, text: string): Buffer;
}
interface Crypto {
  generateKey(): Buffer;
  BOX_OVERHEAD: number;
}
interface Server {
  startServer(options: { port: number }): Promise<{ port: number; close(): Promise<void> }>;
}

const BLOCK = 64;
// Short, exactly one block, just over it, multi-byte, long.
const TEXTS = ['a', 'hello', 'x'.repeat(63), 'x'.repeat(64), 'é'.repeat(40), 'y'.repeat(1000)];

/** The plaintext length inside a box: its bytes minus nonce and tag. */
function sealedLength(ctx: CheckContext, boxBase64: string): number {
  const { BOX_OVERHEAD } = ctx.load<Crypto>('shared/src/crypto');
  return Buffer.from(boxBase64, 'base64').length - BOX_OVERHEAD;
}

/** Seals `text` with the learner's sealMessage and returns the box from the frame. */
function boxOf(ctx: CheckContext, key: Buffer, text: string): string {
  const { sealMessage } = ctx.load<Sealing>('stage5-aes/src/sealed-messages');
  const frame = JSON.parse(sealMessage(key, text).toString('utf8')) as { box: string };
  return frame.box;
}

export const exercise: Exercise = {
  title: 'Hide lengths: pad every message to a multiple of 64 bytes',
  readme: 'stage5-aes/README.md',
  checks: [
    {
      name: 'every box holds a multiple of 64 bytes, at least as many as the text',
      hint: 'in sealMessage, pad the UTF-8 bytes before sealing (seal, not sealText, takes bytes)',
      async run(ctx) {
        const key = ctx.load<Crypto>('shared/src/crypto').generateKey();
        for (const text of TEXTS) {
          const inside = sealedLength(ctx, boxOf(ctx, key, text));
          const bytes = Buffer.byteLength(text, 'utf8');
          assert.ok(
            inside % BLOCK === 0 && inside >= bytes,
            `a ${bytes}-byte message sealed ${inside} bytes (want a multiple of ${BLOCK}, >= ${bytes})`,
          );
        }
      },
    },
    {
      name: '"hi" and a 50-byte message give boxes of the same size',
      hint: 'pad to the next multiple of 64: every message shorter than 64 bytes looks the same',
      async run(ctx) {
        const key = ctx.load<Crypto>('shared/src/crypto').generateKey();
        const short = boxOf(ctx, key, 'hi').length;
        const longer = boxOf(ctx, key, 'x'.repeat(50)).length;
        expectSame(short, longer, 'box length for "hi" (got) and for 50 bytes (expected)');
      },
    },
    {
      name: 'through a real server, receivers print exactly what was sent',
      hint: 'strip the padding in renderServerFrame after opening, and only what you added',
      async run(ctx) {
        const { startServer } = ctx.load<Server>('stage5-aes/src/server');
        const key = ctx.load<Crypto>('shared/src/crypto').generateKey();
        const server = await startServer({ port: 0 });
        ctx.defer(() => server.close());
        const observer = await connectLines(ctx, server.port); // sees the boxes go by
        await observer.next(); // its welcome
        const reader = await startClient(ctx, server.port, key);
        const writer = await startClient(ctx, server.port, key);
        const label = writer.label;
        const texts = [
          'hi',
          'trailing spaces   ',
          'héllo wörld 👋',
          'x'.repeat(64),
          'z'.repeat(999),
        ];
        for (const text of texts) writer.say(text);
        for (const text of texts) {
          const line = await reader.stdout.next();
          expectSame(line, `${label}: ${text}`, 'what the receiver printed');
        }
        const boxes: string[] = [];
        while (boxes.length < 3) {
          const frame = JSON.parse(await observer.next()) as { type: string; box?: string };
          if (frame.type === 'chat' && frame.box !== undefined) boxes.push(frame.box);
        }
        const sizes = boxes.map((box) => sealedLength(ctx, box));
        assert.ok(
          sizes.every((size) => size === sizes[0]),
          `on the wire the three short messages sealed ${sizes.join(', ')} bytes: not the same`,
        );
      },
    },
  ],
};
