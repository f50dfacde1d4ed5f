/**
 * The stage 8 frame vectors of docs/wire-vectors.json: every frame type of
 * stage8-e2e/src/messages.ts in both directions, as exact lines, with the
 * real decoders' verdicts.
 *
 * The keys, the key box and the message are the fixed ones of
 * docs/e2e-vectors.json (tools/e2e-vectors-build.ts), so an independent
 * client can check a frame here and the records inside it there, and both
 * files agree. The ticket is a made-up string of the right shape: to a
 * client it is opaque.
 */

import * as stage8 from '../stage8-e2e/src/messages';
import { e2eWireMaterial } from './e2e-vectors-build';
import { frameVector, line, type FrameSet, type Intent } from './frame-vector';

// An opaque ticket, of the right shape only (a real one is an HMAC'd record).
const TICKET = 'v1.YWxpY2U.MTczMjAwMDAwMDAwMA.' + 'A'.repeat(43);

/** Computes the stage 8 frame vectors. Deterministic. */
export function stage8Frames(): FrameSet {
  const { bundles, pairwiseBox, roomMessage } = e2eWireMaterial();
  const c = (intent: Intent, name: string, v: Parameters<typeof frameVector>[3]) =>
    frameVector(stage8.decodeClientFrame, intent, name, v);
  const s = (intent: Intent, name: string, v: Parameters<typeof frameVector>[3]) =>
    frameVector(stage8.decodeServerFrame, intent, name, v);
  const password = 'correct horse battery staple';
  const chat = { type: 'e2e-chat', ...roomMessage };
  const relay = { type: 'e2e-chat', from: 'alice', ...roomMessage };
  const shortKey = Buffer.alloc(31).toString('base64');
  return {
    clientToServer: [
      c('valid', 'register', line({ type: 'register', user: 'alice', password, ...bundles.alice })),
      c('valid', 'login', line({ type: 'login', user: 'alice', password, ...bundles.alice })),
      c(
        'valid',
        'resume',
        line({ type: 'resume', user: 'alice', ticket: TICKET, ...bundles.alice }),
      ),
      c('valid', 'sender-key', line({ type: 'sender-key', to: 'bob', ...pairwiseBox })),
      c('valid', 'e2e-chat', line(chat)),
      c('valid', 'keys', line({ type: 'keys', user: 'bob' })),
      c('valid', 'who', line({ type: 'who' })),
      c('valid', 'pong', line({ type: 'pong' })),
      c('invalid', "stage 7's plain chat is gone", line({ type: 'chat', text: 'hello' })),
      c('invalid', 'e2e-chat claiming a sender', line({ ...relay })),
      c(
        'invalid',
        'e2e-chat with a 63-byte signature',
        line({ ...chat, sig: Buffer.alloc(63).toString('base64') }),
      ),
      c('invalid', 'e2e-chat counter past u32', line({ ...chat, counter: 2 ** 32 })),
      c('invalid', 'e2e-chat box shorter than nonce + tag', line({ ...chat, box: 'AAAA' })),
      c('invalid', 'sender-key without a recipient', line({ type: 'sender-key', ...pairwiseBox })),
      c(
        'invalid',
        'login without a bundle signature',
        line({
          type: 'login',
          user: 'alice',
          password,
          signingKey: bundles.alice.signingKey,
          agreementKey: bundles.alice.agreementKey,
        }),
      ),
      c(
        'invalid',
        'register with a 31-byte agreement key',
        line({
          type: 'register',
          user: 'alice',
          password,
          ...bundles.alice,
          agreementKey: shortKey,
        }),
      ),
    ],
    serverToClient: [
      s(
        'valid',
        'welcome',
        line({ type: 'welcome', user: 'alice', count: 2, online: ['bob', 'alice'] }),
      ),
      s('valid', 'member', line({ type: 'member', user: 'bob', ...bundles.bob })),
      s(
        'valid',
        'ticket',
        line({ type: 'ticket', ticket: TICKET, expires: '2024-12-19T07:06:40.000Z' }),
      ),
      s('valid', 'joined', line({ type: 'joined', who: 'alice', online: 2, ...bundles.alice })),
      s('valid', 'sender-key relay', line({ type: 'sender-key', from: 'alice', ...pairwiseBox })),
      s('valid', 'e2e-chat relay', line(relay)),
      s('valid', 'keys', line({ type: 'keys', user: 'bob', ...bundles.bob })),
      s('valid', 'who', line({ type: 'who', count: 2, online: ['bob', 'alice'] })),
      s('valid', 'left', line({ type: 'left', who: 'bob', online: 1 })),
      s('valid', 'ping', line({ type: 'ping' })),
      s('valid', 'bye', line({ type: 'bye', reason: 'server shutting down' })),
      s(
        'valid',
        'error',
        line({ type: 'error', code: 'NO_KEYS', message: 'no public keys are stored for carol' }),
      ),
      s(
        'valid',
        'error with retryAfterMs',
        line({
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'too many failed logins; try again later',
          retryAfterMs: 30000,
        }),
      ),
      s('invalid', 'e2e-chat relay without a sender', line(chat)),
      s(
        'invalid',
        'sender-key relay with `to` instead of `from`',
        line({ type: 'sender-key', to: 'bob', ...pairwiseBox }),
      ),
      s('invalid', 'member without keys', line({ type: 'member', user: 'bob' })),
      s(
        'invalid',
        'joined with a 31-byte signing key',
        line({ type: 'joined', who: 'alice', online: 2, ...bundles.alice, signingKey: shortKey }),
      ),
    ],
  };
}
