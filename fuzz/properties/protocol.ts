/**
 * Fuzz targets for the frame decoders of stages 5 and 6 (shared/src/protocol.ts
 * and the stage 6 vocabulary in stage6-auth/src/messages.ts), and for the
 * stage 6 credentials parser.
 *
 * Oracle: the spec in ../reference/frames.ts, written independently of the
 * schemas. For every line, each decoder must agree with the spec (accept the
 * same frames, with the same content; refuse the rest with the spec's code),
 * never throw, and produce an error the server can send back as a valid
 * `error` frame. The unit tests only check "does not throw" on random input.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { ChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import * as protocol from '../../shared/src/protocol';
import * as stage5 from '../../stage5-aes/src/messages';
import * as stage6 from '../../stage6-auth/src/messages';
import { applyMutations, hostileLine } from '../arbitraries/frames';
import { cutPoints } from '../arbitraries/bytes';
import { pureCampaign, type FuzzTarget } from '../campaign';
import { cut } from '../reference/lines';
import {
  judge,
  STAGE5_CLIENT,
  STAGE5_SERVER,
  STAGE6_CLIENT,
  STAGE6_SERVER,
  validFrame,
  type Vocabulary,
} from '../reference/frames';

type Decode = (text: string) => protocol.Decoded<unknown>;

/** Each vocabulary of the spec with the real decoder and encoder for it. */
const SIDES: { spec: Vocabulary; decode: Decode; encode: (frame: never) => Buffer }[] = [
  { spec: STAGE5_CLIENT, decode: stage5.decodeClientFrame, encode: stage5.encodeClientFrame },
  { spec: STAGE5_SERVER, decode: stage5.decodeServerFrame, encode: stage5.encodeServerFrame },
  { spec: STAGE6_CLIENT, decode: stage6.decodeClientFrame, encode: stage6.encodeClientFrame },
  { spec: STAGE6_SERVER, decode: stage6.decodeServerFrame, encode: stage6.encodeServerFrame },
];

/**
 * Checks one line against one decoder: same verdict as the spec, a typed
 * error, and an error message that survives the trip back to the peer.
 */
function checkLine(side: (typeof SIDES)[number], line: string): void {
  let result: protocol.Decoded<unknown>;
  try {
    result = side.decode(line);
  } catch (err) {
    throw new Error(`${side.spec.name} decoder threw: ${String(err)}`);
  }
  const verdict = judge(side.spec, line);
  if (result.ok !== verdict.ok) {
    throw new Error(
      `${side.spec.name}: decoder says ${result.ok ? 'ok' : (result as { error: Error }).error.message}, spec says ${verdict.ok ? 'ok' : verdict.code}`,
    );
  }
  if (result.ok && verdict.ok) {
    if (!isDeepStrictEqual({ ...(result.frame as object) }, { ...verdict.frame })) {
      throw new Error(`${side.spec.name}: decoded frame differs from the line's JSON`);
    }
    return;
  }
  if (result.ok || verdict.ok) return; // unreachable, for the type checker
  const { error } = result;
  if (!(error instanceof ChatError) || error.code !== verdict.code) {
    throw new Error(
      `${side.spec.name}: error ${String(error)} (${(error as ChatError).code}), spec ${verdict.code}`,
    );
  }
  // The server answers a bad frame with {"type":"error",code,message}; the
  // client's strict decoder must accept that answer, or the client would see
  // its own error as a protocol violation by the server.
  const reply = JSON.stringify({ type: 'error', code: error.code, message: error.message });
  if (!stage6.decodeServerFrame(reply).ok || !stage5.decodeServerFrame(reply).ok) {
    throw new Error(`error message cannot be sent back: ${JSON.stringify(error.message)}`);
  }
  const control = [...error.message].find((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');
  if (control !== undefined) {
    throw new Error(`error message carries control characters: ${JSON.stringify(error.message)}`);
  }
}

/** Every decoder agrees with the spec on hostile lines. */
export const protocolDecoders: FuzzTarget = {
  name: 'protocol.decoders',
  about: 'stage 5/6 decoders vs an independent spec on mutated frames, random JSON and strings',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        fc
          .integer({ min: 0, max: SIDES.length - 1 })
          .chain((i) => fc.tuple(fc.constant(i), hostileLine(SIDES[i]!.spec))),
        ([i, line]) => {
          // The line was made for side i, but every decoder must cope with it.
          checkLine(SIDES[i]!, line);
          for (const side of SIDES) checkLine(side, line);
        },
      ),
    ),
};

/** A valid frame survives encode → bytes cut anywhere → LineDecoder → decode, unchanged. */
export const protocolRoundTrip: FuzzTarget = {
  name: 'protocol.roundtrip',
  about: 'every valid stage 5/6 frame: encode → chunked LineDecoder → decode is the identity',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(
        fc
          .integer({ min: 0, max: SIDES.length - 1 })
          .chain((i) => fc.tuple(fc.constant(i), validFrame(SIDES[i]!.spec))),
        cutPoints,
        ([i, frame], offsets) => {
          const side = SIDES[i]!;
          const bytes = side.encode(frame as never);
          const decoder = new LineDecoder({ maxFrameBytes: protocol.MAX_FRAME_BYTES });
          const lines = cut(bytes, offsets).flatMap((c) => decoder.push(c));
          const line = lines[0];
          if (lines.length !== 1 || line === undefined || !line.ok) {
            throw new Error(`framing gave ${JSON.stringify(lines)}`);
          }
          const decoded = side.decode(line.text);
          if (!decoded.ok || !isDeepStrictEqual({ ...(decoded.frame as object) }, frame)) {
            throw new Error(`${side.spec.name}: ${JSON.stringify(decoded)}`);
          }
        },
      ),
    ),
};

/** Credentials plaintexts: the right three keys with any values, then mutated; or anything. */
const credentialsText = fc.oneof(
  fc
    .tuple(
      fc.record({ username: fc.jsonValue(), password: fc.jsonValue(), challenge: fc.jsonValue() }),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('remove' as const), index: fc.nat() }),
          fc.record({
            op: fc.constant('add' as const),
            key: fc.constantFrom('__proto__', 'constructor', 'username ', 'x', ''),
            value: fc.jsonValue({ maxDepth: 1 }),
          }),
          fc.record({
            op: fc.constant('duplicate' as const),
            key: fc.constantFrom('username', 'password', 'challenge', '__proto__'),
            value: fc.jsonValue({ maxDepth: 1 }),
            first: fc.boolean(),
          }),
          fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        ),
        { maxLength: 3 },
      ),
    )
    .map(([credentials, mutations]) => applyMutations(credentials, mutations)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/**
 * parseCredentials (stage 6) returns exactly the three values of an object
 * with exactly those three keys, and refuses anything else with BAD_FRAME.
 */
export const protocolCredentials: FuzzTarget = {
  name: 'protocol.credentials',
  about: 'stage 6 parseCredentials: the three values, or BAD_FRAME, never another throw',
  fullRuns: 100_000,
  ciRuns: 1_000,
  prepare: () =>
    pureCampaign(() =>
      fc.property(credentialsText, (text) => {
        let expected: Record<string, unknown> | undefined;
        try {
          const value: unknown = JSON.parse(text);
          if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
            const keys = Object.keys(value).sort();
            if (isDeepStrictEqual(keys, ['challenge', 'password', 'username'])) {
              expected = { ...value };
            }
          }
        } catch {
          expected = undefined;
        }
        let parsed: stage6.Credentials;
        try {
          parsed = stage6.parseCredentials(text);
        } catch (err) {
          if (!(err instanceof ChatError)) throw err;
          // More than the 1,024 bytes a login box can hold is refused by its
          // size, before it is parsed, whatever it contains.
          if (Buffer.byteLength(text) > 1024) {
            if (err.code !== 'FRAME_TOO_LARGE') throw err;
            return;
          }
          if (err.code !== 'BAD_FRAME') throw err;
          if (expected !== undefined) throw new Error('refused valid credentials');
          return;
        }
        if (expected === undefined) throw new Error('accepted invalid credentials');
        if (!isDeepStrictEqual({ ...parsed }, expected)) throw new Error('values changed');
      }),
    ),
};
