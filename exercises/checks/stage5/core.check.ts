// Stage 5, write the core: seal and open with AES-256-GCM and associated
// data. The task and the stub are in exercises/core/stage5/box.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { connectLines } from '../../kit/lines';
import { startClient } from './clients';

const STARTER = 'exercises/core/stage5/box.ts';

/** The stub's API (see the starter file), and the course's, which has the same shape. */
interface Box {
  seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Buffer;
  open(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Buffer;
}
interface Protocol {
  chatAssociatedData(): Buffer;
}
interface Server {
  startServer(options: { port: number }): Promise<{ port: number; close(): Promise<void> }>;
}

const learner = (ctx: CheckContext) => ctx.load<Box>(STARTER);
const course = (ctx: CheckContext) => ctx.load<Box>('shared/src/crypto');
const AD = Buffer.from('context: chat');

/** A second, separate copy of the learner's module: another member of the room. */
function anotherCopy(ctx: CheckContext): Box {
  const requireFromRoot = createRequire(path.join(ctx.root, 'package.json'));
  const file = requireFromRoot.resolve(path.join(ctx.root, STARTER));
  const cached = requireFromRoot.cache[file];
  delete requireFromRoot.cache[file];
  try {
    return requireFromRoot(file) as Box;
  } finally {
    if (cached !== undefined) requireFromRoot.cache[file] = cached;
  }
}

/** Runs `attempt`, which must throw ChatError DECRYPT_FAILED. */
function expectRefused(attempt: () => unknown, what: string): void {
  let result: unknown;
  try {
    result = attempt();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'DECRYPT_FAILED') return;
    throw new Error(
      `${what}: threw ${String(err)} (code ${String(code)}); expected ChatError DECRYPT_FAILED`,
    );
  }
  const shown = Buffer.isBuffer(result)
    ? JSON.stringify(result.toString('latin1'))
    : String(result);
  throw new Error(`${what}: open() returned ${shown}; it must throw DECRYPT_FAILED`);
}

export const exercise: Exercise = {
  title: 'Write the core: seal and open with AES-256-GCM and associated data',
  readme: 'stage5-aes/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'open(seal(x)) gives x back, and a box is 28 bytes longer than x',
      hint: 'seal: nonce, then cipher.update(plaintext) + cipher.final(), then cipher.getAuthTag(); open takes them apart',
      async run(ctx) {
        const { seal, open } = learner(ctx);
        const key = randomBytes(32);
        for (const text of [
          Buffer.alloc(0),
          Buffer.from('a'),
          Buffer.from('héllo 👋'),
          randomBytes(1000),
        ]) {
          const box = seal(key, text, AD);
          expectSame(
            box.length,
            text.length + 28,
            `the box length for a ${text.length}-byte message`,
          );
          assert.ok(
            open(key, box, AD).equals(text),
            `a ${text.length}-byte message did not come back unchanged`,
          );
        }
      },
    },
    {
      name: "your boxes open with the course's open(), and its boxes open with yours",
      hint: 'the layout is nonce (12) | ciphertext | tag (16), and the associated data goes in with setAAD on both sides',
      async run(ctx) {
        const key = randomBytes(32);
        const text = Buffer.from('same layout, same algorithm');
        const mine = learner(ctx).seal(key, text, AD);
        assert.ok(
          course(ctx).open(key, mine, AD).equals(text),
          "the course's open() read your box wrongly",
        );
        const theirs = course(ctx).seal(key, text, AD);
        assert.ok(
          learner(ctx).open(key, theirs, AD).equals(text),
          "your open() read the course's box wrongly",
        );
      },
    },
    {
      name: 'every box gets a fresh random nonce: 2,000 seals never repeat one, nor do two members',
      hint: 'randomBytes(12) inside seal(), every call: not once per program, not a counter',
      async run(ctx) {
        const { seal } = learner(ctx);
        const key = randomBytes(32);
        const text = Buffer.from('the same text every time');
        const seen = new Set<string>();
        for (let i = 0; i < 2000; i++) {
          const nonce = seal(key, text, AD).subarray(0, 12).toString('hex');
          assert.ok(!seen.has(nonce), `seal number ${i + 1} reused the nonce ${nonce}`);
          seen.add(nonce);
        }
        // Two members of the room, each running a fresh copy of the code, one key.
        const first = anotherCopy(ctx).seal(key, text, AD).subarray(0, 12).toString('hex');
        const second = anotherCopy(ctx).seal(key, text, AD).subarray(0, 12).toString('hex');
        assert.notEqual(
          first,
          second,
          `two members' first boxes share the nonce ${first}: a counter, or a nonce fixed at start-up?`,
        );
      },
    },
    {
      name: 'a box changed in any one bit is refused with DECRYPT_FAILED',
      hint: "decipher.setAuthTag(tag) before final(); turn final()'s exception into new ChatError('DECRYPT_FAILED', ...)",
      async run(ctx) {
        const { seal, open } = learner(ctx);
        const key = randomBytes(32);
        const box = seal(key, Buffer.from('hello'), AD);
        for (let bit = 0; bit < box.length * 8; bit++) {
          const tampered = Buffer.from(box);
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          const part = bit < 96 ? 'nonce' : bit < (box.length - 16) * 8 ? 'ciphertext' : 'tag';
          expectRefused(() => open(key, tampered, AD), `bit ${bit} (in the ${part}) flipped`);
        }
      },
    },
    {
      name: 'other associated data, or none, is refused with DECRYPT_FAILED',
      hint: 'call setAAD(associatedData) in seal() AND in open(): then the tag covers it',
      async run(ctx) {
        const { seal, open } = learner(ctx);
        const key = randomBytes(32);
        const box = seal(key, Buffer.from('for the chat only'), AD);
        expectRefused(
          () => open(key, box, Buffer.from('context: file')),
          'opened with other associated data',
        );
        expectRefused(() => open(key, box, Buffer.alloc(0)), 'opened with empty associated data');
        const bare = seal(key, Buffer.from('sealed with none'), Buffer.alloc(0));
        expectRefused(() => open(key, bare, AD), 'sealed with none, opened with some');
      },
    },
    {
      name: 'another key, or a box too short to hold a nonce and a tag, is refused with DECRYPT_FAILED',
      hint: 'check box.length >= 12 + 16 before taking it apart; wrap everything that can throw in open()',
      async run(ctx) {
        const { seal, open } = learner(ctx);
        const key = randomBytes(32);
        const box = seal(key, Buffer.from('hello'), AD);
        expectRefused(() => open(randomBytes(32), box, AD), 'opened with another key');
        expectRefused(
          () => open(key, box.subarray(0, box.length - 1), AD),
          'the last byte cut off',
        );
        for (const length of [0, 1, 11, 12, 27]) {
          expectRefused(() => open(key, box.subarray(0, length), AD), `a ${length}-byte box`);
        }
      },
    },
    {
      name: 'through the real stage 5 server: a real client prints your box, and your open() reads its box',
      hint: 'seal the UTF-8 text with the protocol\'s chatAssociatedData(); the frame is {"type":"chat","box":BASE64}',
      async run(ctx) {
        const { seal, open } = learner(ctx);
        const { chatAssociatedData } = ctx.load<Protocol>('stage5-aes/src/messages');
        const { startServer } = ctx.load<Server>('stage5-aes/src/server');
        const server = await startServer({ port: 0 });
        ctx.defer(() => server.close());
        const key = randomBytes(32);
        const me = await connectLines(ctx, server.port); // a raw socket: you
        const myLabel = `127.0.0.1:${me.localPort}`;
        await me.next(); // the welcome
        const client = await startClient(ctx, server.port, key);
        const box = seal(key, Buffer.from('sealed by you, héllo', 'utf8'), chatAssociatedData());
        me.send(`${JSON.stringify({ type: 'chat', box: box.toString('base64') })}\n`);
        // The client prints a message on stdout, or a refusal on stderr: one of them comes.
        const printed = await Promise.race([
          client.stdout.next(),
          client.stderr.waitFor(/^! /).then((warning) => `(on stderr) ${warning}`),
        ]);
        expectSame(printed, `${myLabel}: sealed by you, héllo`, 'what the real client printed');
        client.say('sealed by the course');
        for (;;) {
          const frame = JSON.parse(await me.next()) as { type: string; box?: string };
          if (frame.type !== 'chat' || frame.box === undefined) continue;
          const text = open(key, Buffer.from(frame.box, 'base64'), chatAssociatedData()).toString(
            'utf8',
          );
          expectSame(text, 'sealed by the course', "the real client's message, opened by you");
          return;
        }
      },
    },
  ],
};
