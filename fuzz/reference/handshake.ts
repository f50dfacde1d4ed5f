/**
 * What a stage 6 server must answer the first frame of a connection that has
 * not logged in, and generators for such frames: any client payload, or
 * credentials sealed with the room key (as an insider who knows the key but
 * not the passwords would send) holding hostile values.
 *
 * The prediction follows the handshake's documented order of checks (open
 * the box, parse the credentials, compare the challenge, then validate,
 * rate-limit and compare the password): everything up to the challenge is
 * predicted exactly; after it, the answer must be one of the codes those
 * later checks can give, or a `welcome` when the credentials are right.
 */
import fc from 'fast-check';
import { sealText } from '../../shared/src/crypto';
import type { ChatErrorCode } from '../../shared/src/errors';
import { credentialsAssociatedData } from '../../stage6-auth/src/messages';
import { applyMutations, type Mutation } from '../arbitraries/frames';
import { clientPayload } from '../arbitraries/payloads';
import { judge, SPEC_MAX_FRAME_BYTES, STAGE6_CLIENT } from './frames';
import { modelLines } from './lines';

/** The password every account the fuzzers register uses. */
export const FUZZ_PASSWORD = 'fuzzing-password';

/** Credentials with values of every kind, sealed with the room key. */
export interface CredentialsCase {
  /** Discriminant. */
  kind: 'credentials';
  /** The frame type sent. */
  type: 'login' | 'register';
  /** The frame type bound into the box's associated data (a mismatch must fail to open). */
  adType: 'login' | 'register';
  /** Any JSON value. */
  username: unknown;
  /** Any JSON value. */
  password: unknown;
  /** Any JSON value; `'CORRECT'` stands for this connection's challenge. */
  challenge: unknown;
  /** Changes to the credentials object or its JSON text. */
  mutations: readonly Mutation[];
}

/** A first frame: raw bytes (a newline is added), or sealed credentials. */
export type HandshakeCase = { kind: 'bytes'; bytes: Uint8Array } | CredentialsCase;

/** Hostile credentials; `alice` exists with {@link FUZZ_PASSWORD} where the fuzzers create her. */
export const credentialsCase: fc.Arbitrary<CredentialsCase> = fc.record({
  kind: fc.constant('credentials' as const),
  type: fc.constantFrom('login' as const, 'register' as const),
  adType: fc.constantFrom('login' as const, 'register' as const),
  username: fc.oneof(
    fc.constantFrom('alice', 'ALICE', 'a'.repeat(32), 'a'.repeat(33), 'bad name', '', 'ålice'),
    fc.nat({ max: 10_000 }).map((n) => `fz${n}`),
    fc.jsonValue({ maxDepth: 1 }),
  ),
  password: fc.oneof(
    fc.constantFrom(FUZZ_PASSWORD, 'short', 'x'.repeat(72), 'x'.repeat(73), 'é'.repeat(37), ''),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.jsonValue({ maxDepth: 1 }),
  ),
  challenge: fc.oneof(
    { weight: 4, arbitrary: fc.constant('CORRECT') },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  ),
  mutations: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Mutation[]>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.oneof<fc.Arbitrary<Mutation>[]>(
          fc.record({ op: fc.constant('remove' as const), index: fc.nat() }),
          fc.record({
            op: fc.constant('add' as const),
            key: fc.constantFrom('__proto__', 'x'),
            value: fc.jsonValue({ maxDepth: 1 }),
          }),
          fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        ),
        { maxLength: 2 },
      ),
    },
  ),
});

/** Any first frame: mostly fuzzed payloads, often sealed credentials. */
export const handshakeCase: fc.Arbitrary<HandshakeCase> = fc.oneof(
  { weight: 3, arbitrary: clientPayload.map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  { weight: 2, arbitrary: credentialsCase },
);

/** Codes a login whose box opened and whose challenge matched may still end with. */
const AFTER_CHALLENGE: ReadonlySet<ChatErrorCode> = new Set<ChatErrorCode>([
  'BAD_USERNAME',
  'BAD_PASSWORD',
  'AUTH_FAILED',
  'NAME_TAKEN',
  'ALREADY_LOGGED_IN',
  'RATE_LIMITED',
]);

/** The bytes to send and the answers the server may give. */
export interface HandshakeExpectation {
  /** What to write: one or more lines, the last ending in `\n`. */
  bytes: Buffer;
  /** Error codes the answer may carry (one, where it is predictable). */
  codes: ReadonlySet<string>;
  /** Whether a `welcome` is a possible answer too. */
  welcome: boolean;
}

/**
 * Builds the frame for a case and predicts the answer.
 *
 * @param c - the case
 * @param challenge - this connection's `hello` challenge
 * @param key - the room key (sealed credentials need it)
 */
export function expectBeforeLogin(
  c: HandshakeCase,
  challenge: string,
  key: Uint8Array,
): HandshakeExpectation {
  if (c.kind === 'bytes') {
    const bytes = Buffer.concat([c.bytes, Buffer.from('\n')]);
    return { bytes, codes: new Set([firstFrameCode(bytes)!]), welcome: false };
  }
  const credentials = {
    username: c.username,
    password: c.password,
    challenge: c.challenge === 'CORRECT' ? challenge : c.challenge,
  };
  const text = applyMutations(credentials, c.mutations);
  const box = sealText(key, text, credentialsAssociatedData(c.adType));
  const bytes = Buffer.from(JSON.stringify({ type: c.type, box }) + '\n');
  const only = (code: ChatErrorCode) => ({ bytes, codes: new Set([code]), welcome: false });
  if (c.adType !== c.type) return only('DECRYPT_FAILED');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return only('BAD_FRAME');
  }
  const keys =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? Object.keys(parsed).sort().join()
      : '';
  if (keys !== 'challenge,password,username') {
    return only('BAD_FRAME');
  }
  if ((parsed as Record<string, unknown>).challenge !== challenge) return only('AUTH_FAILED');
  return { bytes, codes: AFTER_CHALLENGE, welcome: true };
}

/**
 * The code the first complete line of `bytes` must be refused with before
 * login, or `undefined` if `bytes` holds no complete (or certainly oversized) line.
 *
 * @param bytes - what the client wrote
 */
export function firstFrameCode(bytes: Uint8Array): ChatErrorCode | undefined {
  const first = modelLines(bytes, SPEC_MAX_FRAME_BYTES).frames[0];
  if (first === undefined) return undefined;
  if (!first.ok) return first.code as ChatErrorCode;
  const verdict = judge(STAGE6_CLIENT, first.text);
  if (!verdict.ok) return verdict.code as ChatErrorCode;
  // A login box from a fuzzer that does not hold the key can never open.
  if (verdict.frame.type === 'login' || verdict.frame.type === 'register') return 'DECRYPT_FAILED';
  return 'NOT_LOGGED_IN';
}
