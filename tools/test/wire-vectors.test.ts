/**
 * Replays every wire test vector (docs/wire-vectors.json) against the real
 * decoders and crypto, and checks that the committed file is exactly what
 * tools/wire-vectors.ts produces today.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { open, openText, seal } from '../../shared/src/crypto';
import { isChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import * as protocol from '../../shared/src/protocol';
import * as stage5 from '../../stage5-aes/src/messages';
import * as stage6 from '../../stage6-auth/src/messages';
import { fillProtocolDoc, PROTOCOL_PATH } from '../protocol-doc';
import {
  buildWireVectors,
  expandTemplate,
  VECTORS_PATH,
  type BadBoxVector,
  type BoxVector,
  type FrameVector,
  type FramingVector,
  type WireVectors,
} from '../wire-vectors-build';

const ROOT = path.resolve(__dirname, '../..');
const committed = readFileSync(path.join(ROOT, VECTORS_PATH), 'utf8');
const vectors = JSON.parse(committed) as WireVectors;

const hexBytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

function decodeStream(vector: FramingVector): FramingVector['expected'] {
  const decoder = new LineDecoder({ maxFrameBytes: vector.maxFrameBytes });
  return vector.chunksHex
    .flatMap((chunk) => decoder.push(hexBytes(chunk)))
    .map((f) => (f.ok ? { text: f.text } : { error: f.error.code }));
}

/** What a receiver's openText says about a bad box: the error code, or `opened`. */
function openOutcome(vector: BadBoxVector): string {
  try {
    openText(hexBytes(vector.keyHex), vector.box, Buffer.from(vector.associatedData, 'utf8'));
    return 'opened';
  } catch (err) {
    return isChatError(err) ? err.code : `threw ${String(err)}`;
  }
}

function sealAgain(vector: BoxVector): string {
  const box = seal(
    hexBytes(vector.keyHex),
    Buffer.from(vector.plaintext, 'utf8'),
    Buffer.from(vector.associatedData, 'utf8'),
    { testVectorNonce: hexBytes(vector.nonceHex) },
  );
  return box.toString('base64');
}

function decodeVector(decode: (text: string) => protocol.Decoded<unknown>, vector: FrameVector) {
  const text = vector.line ?? expandTemplate(vector.lineTemplate!);
  const result = decode(text);
  return result.ok ? { ok: true, frame: result.frame } : { ok: false, code: result.error.code };
}

const decoders = {
  stage5: { clientToServer: stage5.decodeClientFrame, serverToClient: stage5.decodeServerFrame },
  stage6: { clientToServer: stage6.decodeClientFrame, serverToClient: stage6.decodeServerFrame },
};

describe('wire vectors', () => {
  test('the committed JSON is what the generator produces now', () => {
    // A mismatch means: run `npm run docs:generate` and commit the result. (The
    // byte-for-byte check, formatting and docs/protocol.md included, is
    // `npm run docs:check`; Prettier cannot run inside Jest.)
    expect(vectors).toEqual(JSON.parse(JSON.stringify(buildWireVectors())));
  });

  test('every example block in docs/protocol.md is filled from the vectors', () => {
    const spec = readFileSync(path.join(ROOT, PROTOCOL_PATH), 'utf8');
    const lines = [
      ...vectors.frames.stage5.clientToServer,
      ...vectors.frames.stage6.serverToClient,
    ].filter((v) => v.expected.ok);
    expect(spec).toContain(lines[0]!.line!);
    expect(fillProtocolDoc(spec, vectors)).toContain(vectors.login.loginLine);
    expect(spec).toContain(vectors.login.loginLine);
  });

  test('the file covers every section', () => {
    expect(vectors.framing.length).toBeGreaterThan(10);
    expect(vectors.boxes.length).toBeGreaterThan(3);
    expect(vectors.badBoxes.length).toBeGreaterThan(5);
    for (const stage of ['stage5', 'stage6'] as const) {
      for (const direction of ['clientToServer', 'serverToClient'] as const) {
        const set = vectors.frames[stage][direction];
        expect(set.some((v) => v.expected.ok)).toBe(true);
        expect(set.some((v) => !v.expected.ok)).toBe(true);
      }
    }
  });

  describe.each(vectors.framing.map((v) => [v.name, v] as const))('framing: %s', (_name, v) => {
    test('the line decoder yields the expected frames', () => {
      expect(decodeStream(v)).toEqual(v.expected);
    });
  });

  describe.each(vectors.associatedData.map((v) => [v.name, v] as const))('AD: %s', (_name, v) => {
    test('associatedData() builds exactly these bytes', () => {
      expect(protocol.associatedData(v.parts).toString('utf8')).toBe(v.utf8);
    });
  });

  describe.each(vectors.boxes.map((v) => [v.name, v] as const))('box: %s', (_name, v) => {
    test('opens to the plaintext', () => {
      const ad = Buffer.from(v.associatedData, 'utf8');
      expect(openText(hexBytes(v.keyHex), v.box, ad)).toBe(v.plaintext);
    });
    test('sealing with the fixed nonce reproduces it byte for byte', () => {
      expect(sealAgain(v)).toBe(v.box);
      expect(Buffer.from(v.box, 'base64').subarray(0, 12).toString('hex')).toBe(v.nonceHex);
    });
  });

  describe.each(vectors.badBoxes.map((v) => [v.name, v] as const))('bad box: %s', (_name, v) => {
    test('is refused with the expected code', () => {
      expect(openOutcome(v)).toBe(v.error);
    });
  });

  for (const stage of ['stage5', 'stage6'] as const) {
    for (const direction of ['clientToServer', 'serverToClient'] as const) {
      const cases = vectors.frames[stage][direction].map((v) => [v.name, v] as const);
      describe.each(cases)(`${stage} ${direction}: %s`, (_name, v) => {
        test('the real decoder gives the expected result', () => {
          expect(decodeVector(decoders[stage][direction], v)).toEqual(v.expected);
        });
      });
    }
  }

  test('login: the line decodes, and its box opens to credentials carrying the hello challenge', () => {
    const { login } = vectors;
    const hello = stage6.decodeServerFrame(login.helloLine);
    const frame = stage6.decodeClientFrame(login.loginLine);
    if (!hello.ok || hello.frame.type !== 'hello') throw new Error('hello did not decode');
    if (!frame.ok || frame.frame.type !== 'login') throw new Error('login did not decode');
    const ad = stage6.credentialsAssociatedData('login');
    expect(ad.toString('utf8')).toBe(login.associatedData);
    const box = Buffer.from(frame.frame.box, 'base64');
    expect(box.subarray(0, 12).toString('hex')).toBe(login.nonceHex);
    const plaintext = open(hexBytes(login.keyHex), box, ad).toString('utf8');
    expect(plaintext).toBe(login.credentials);
    expect(stage6.parseCredentials(plaintext)).toEqual({
      username: login.username,
      password: login.password,
      challenge: hello.frame.challenge,
    });
  });

  describe.each(vectors.credentials.map((v) => [v.name, v] as const))(
    'credentials: %s',
    (_name, v) => {
      test('the server gives its shape the expected verdict', () => {
        let outcome: { ok: true } | { ok: false; code: string };
        try {
          stage6.parseCredentials(v.plaintext);
          outcome = { ok: true };
        } catch (err) {
          outcome = { ok: false, code: isChatError(err) ? err.code : String(err) };
        }
        expect(outcome).toEqual(v.expected);
      });
    },
  );

  test('the checks catch a wrong vector (so a passing run means something)', () => {
    const box = vectors.boxes[0]!;
    const otherBox = vectors.boxes[1]!;
    expect(sealAgain({ ...box, plaintext: box.plaintext + '!' })).not.toBe(box.box);
    expect(
      openOutcome({ ...vectors.badBoxes[0]!, box: box.box, associatedData: box.associatedData }),
    ).toBe('opened');
    expect(otherBox.box).not.toBe(box.box); // same text, another nonce: another box
    const framing = vectors.framing.find((v) => v.expected.length > 1)!;
    expect(decodeStream({ ...framing, chunksHex: framing.chunksHex.slice(0, 0) })).not.toEqual(
      framing.expected,
    );
  });

  test('seal without options still draws a fresh random nonce', () => {
    const key = hexBytes(vectors.boxes[0]!.keyHex);
    const ad = Buffer.from('ad');
    const a = seal(key, Buffer.from('same'), ad);
    const b = seal(key, Buffer.from('same'), ad);
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
  });

  test('a test-vector nonce of the wrong length is refused', () => {
    const key = hexBytes(vectors.boxes[0]!.keyHex);
    expect(() =>
      seal(key, Buffer.from('x'), Buffer.alloc(0), { testVectorNonce: Buffer.alloc(8) }),
    ).toThrow(RangeError);
  });
});
