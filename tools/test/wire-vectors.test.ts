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
import { relayCanonicalChat, relayPrefix } from '../../stage8-e2e/src/chat-relay';
import * as stage8 from '../../stage8-e2e/src/messages';
import { E2E_VECTORS_PATH, type E2eVectors } from '../e2e-vectors-build';
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
  stage8: { clientToServer: stage8.decodeClientFrame, serverToClient: stage8.decodeServerFrame },
};
const STAGES = ['stage5', 'stage6', 'stage8'] as const;
const DIRECTIONS = ['clientToServer', 'serverToClient'] as const;

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
    for (const stage of STAGES) {
      for (const direction of DIRECTIONS) {
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

  for (const stage of STAGES) {
    for (const direction of DIRECTIONS) {
      const cases = vectors.frames[stage][direction].map((v) => [v.name, v] as const);
      describe.each(cases)(`${stage} ${direction}: %s`, (_name, v) => {
        test('the real decoder gives the expected result', () => {
          expect(decodeVector(decoders[stage][direction], v)).toEqual(v.expected);
        });
      });
    }
  }

  describe('stage 8 frames', () => {
    const sets = vectors.frames.stage8;
    const valid = (set: FrameVector[]) => set.filter((v) => v.expected.ok);
    const frameOf = (v: FrameVector) => (v.expected as { frame: { type: string } }).frame;
    const find = (direction: (typeof DIRECTIONS)[number], name: string) => {
      const vector = sets[direction].find((v) => v.name === name);
      if (vector?.line === undefined) throw new Error(`no stage 8 vector "${name}"`);
      return vector;
    };
    const encoders = {
      clientToServer: (frame: unknown) => stage8.encodeClientFrame(frame as stage8.ClientFrame),
      serverToClient: (frame: unknown) => stage8.encodeServerFrame(frame as stage8.ServerFrame),
    };

    // A frame type added to messages.ts without a vector fails here.
    test.each([
      ['clientToServer', stage8.CLIENT_SCHEMAS],
      ['serverToClient', stage8.SERVER_SCHEMAS],
    ] as const)('%s: every frame type of messages.ts has a valid vector', (direction, schemas) => {
      const covered = new Set(valid(sets[direction]).map((v) => frameOf(v).type));
      expect(schemas.map((schema) => schema.type).filter((type) => !covered.has(type))).toEqual([]);
    });

    const encodable = DIRECTIONS.flatMap((d) =>
      valid(sets[d]).map((v) => [`${d} ${v.name}`, d, v] as const),
    );
    test.each(encodable)('%s: the encoder writes exactly the vector bytes', (_name, d, v) => {
      const bytes = Buffer.from(`${v.line!}\n`, 'utf8');
      expect(encoders[d](frameOf(v)).toString('hex')).toBe(bytes.toString('hex'));
    });

    test('the server relays the e2e-chat line as the relay line, byte for byte', () => {
      const request = find('clientToServer', 'e2e-chat').line!;
      const relay = find('serverToClient', 'e2e-chat relay').line!;
      expect(relayCanonicalChat(request, relayPrefix('alice'))).toBe(`${relay}\n`);
    });

    test('the frames carry the records of docs/e2e-vectors.json', () => {
      const e2e = JSON.parse(readFileSync(path.join(ROOT, E2E_VECTORS_PATH), 'utf8')) as E2eVectors;
      const [alice, bob] = e2e.identities;
      expect(frameOf(find('clientToServer', 'e2e-chat'))).toEqual({
        type: 'e2e-chat',
        ...e2e.roomMessage.wire,
      });
      expect(frameOf(find('clientToServer', 'sender-key'))).toEqual({
        type: 'sender-key',
        to: 'bob',
        ...e2e.pairwiseBox.wire,
      });
      expect(frameOf(find('clientToServer', 'register'))).toMatchObject(alice!.bundle);
      expect(frameOf(find('serverToClient', 'member'))).toEqual({
        type: 'member',
        user: 'bob',
        ...bob!.bundle,
      });
    });
  });

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
