// Stage 8, the second exercise: the signature check of a room message. The task
// is in stage8-e2e/README.md, section "Exercises"; the stub the learner fills
// is exercises/core/stage8/verify-signature.ts.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CheckContext, Exercise } from '../../kit/check';

interface RoomMessage {
  sender: string;
  epoch: number;
  counter: number;
  box: Buffer;
  signature: Buffer;
}
/** The learner's stub. */
interface Stub {
  checkSignature(message: RoomMessage, senderKey: KeyObject): void;
}
/** What the check uses from the course to make genuine and forged messages. */
interface Identity {
  username: string;
  signingKeyObject: KeyObject;
}
interface Keys {
  generateIdentity(username: string): Identity;
}
interface Messages {
  sealRoomMessage(
    identity: Identity,
    key: { epoch: number; counter: number; messageKey: Buffer },
    text: string,
  ): RoomMessage;
}

/** A genuine message from a fresh alice, sealed and signed by the course's code. */
function genuine(ctx: CheckContext, epoch = 1_732_000_000_000, counter = 7) {
  const alice = ctx.load<Keys>('shared/src/identity-keys').generateIdentity('alice');
  const { sealRoomMessage } = ctx.load<Messages>('shared/src/room-message');
  const message = sealRoomMessage(alice, { epoch, counter, messageKey: Buffer.alloc(32, 9) }, 'hi');
  return { alice, message };
}

const check = (ctx: CheckContext, message: RoomMessage, key: KeyObject) =>
  ctx.load<Stub>('exercises/core/stage8/verify-signature').checkSignature(message, key);

/** Throws unless `run` throws a ChatError with code BAD_SIGNATURE. */
function expectRefused(run: () => void, what: string): void {
  try {
    run();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'BAD_SIGNATURE') return;
    throw new Error(`${what}: threw ${String(err)} (code ${String(code)}), expected BAD_SIGNATURE`);
  }
  throw new Error(`${what}: accepted, expected a BAD_SIGNATURE refusal`);
}

export const exercise: Exercise = {
  title: "Check a room message's signature",
  readme: 'stage8-e2e/README.md',
  starter: 'exercises/core/stage8/verify-signature.ts',
  checks: [
    {
      name: 'a genuine message from alice passes',
      hint: 'record(label, string sender, u64 epoch, u32 counter, bytes box), then crypto.verify(null, record, key, signature)',
      async run(ctx) {
        const { alice, message } = genuine(ctx);
        check(ctx, message, alice.signingKeyObject);
      },
    },
    {
      name: 'an epoch beyond 2^32 is signed as a u64, and passes',
      hint: 'the epoch is .u64(…), the counter .u32(…): epochs are milliseconds since 1970',
      async run(ctx) {
        const { alice, message } = genuine(ctx, 2 ** 40 + 5, 0);
        check(ctx, message, alice.signingKeyObject);
      },
    },
    {
      name: "a message signed by mallory's key is refused with BAD_SIGNATURE",
      hint: "crypto.verify returns false for the wrong key: throw new ChatError('BAD_SIGNATURE', …) then",
      async run(ctx) {
        const { message } = genuine(ctx);
        const mallory = generateKeyPairSync('ed25519').publicKey;
        expectRefused(() => check(ctx, message, mallory), "checked against mallory's key");
      },
    },
    {
      name: 'changing the sender, epoch, counter or box is refused with BAD_SIGNATURE',
      hint: 'the record must hold all four fields: any field left out can be changed freely',
      async run(ctx) {
        const { alice, message } = genuine(ctx);
        const changes: [string, RoomMessage][] = [
          ['sender', { ...message, sender: 'bob' }],
          ['epoch', { ...message, epoch: message.epoch + 1 }],
          ['counter', { ...message, counter: message.counter + 1 }],
          ['box', { ...message, box: Buffer.from(message.box).fill(0, 0, 1) }],
        ];
        for (const [field, changed] of changes) {
          expectRefused(() => check(ctx, changed, alice.signingKeyObject), `a changed ${field}`);
        }
      },
    },
    {
      name: 'a truncated or empty signature is refused with BAD_SIGNATURE, not another error',
      hint: 'whatever the signature bytes are, a failed check is BAD_SIGNATURE',
      async run(ctx) {
        const { alice, message } = genuine(ctx);
        for (const signature of [message.signature.subarray(0, 10), Buffer.alloc(0)]) {
          expectRefused(
            () => check(ctx, { ...message, signature }, alice.signingKeyObject),
            `a ${signature.length}-byte signature`,
          );
        }
      },
    },
  ],
};
