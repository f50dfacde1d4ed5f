/**
 * The wire test vectors, computed: everything tools/wire-vectors.ts writes to
 * docs/wire-vectors.json, and the example blocks it fills in docs/protocol.md.
 *
 * Every value here comes from the project's real modules (the line decoder,
 * the frame decoders of stages 5 and 6, AES-GCM sealing), run with fixed keys
 * and nonces so the output never changes unless the protocol does. Nothing is
 * typed in as an expected result: each input goes through the real decoder
 * and its answer is recorded. What *is* written by hand is the intent: `valid`
 * examples must decode and `invalid` ones must be refused, and building throws
 * when the code disagrees, so a protocol change cannot silently turn an
 * example into a counter-example.
 *
 * This file is pure (no file system, no Prettier), so the vectors test can
 * import it; the generator around it is tools/wire-vectors.ts, and
 * tools/protocol-doc.ts puts the vectors into docs/protocol.md.
 */

import { BOX_OVERHEAD, KEY_BYTES, NONCE_BYTES, seal, TAG_BYTES } from '../shared/src/crypto';
import { DEFAULT_MAX_FRAME_BYTES, LineDecoder } from '../shared/src/framing';
import * as protocol from '../shared/src/protocol';
import * as stage5 from '../stage5-aes/src/messages';
import * as stage6 from '../stage6-auth/src/messages';
import { frameVector, line, type FrameSet, type Intent } from './frame-vector';
import { stage8Frames } from './wire-vectors-stage8';

export { expandTemplate, type FrameVector } from './frame-vector';

/** Where the vectors are written, relative to the repository root. */
export const VECTORS_PATH = 'docs/wire-vectors.json';

// Fixed test keys. They protect nothing: they exist only in this file and the
// vector file, which is why sealing with fixed nonces is harmless here.
const KEY = Buffer.from([...Array(KEY_BYTES).keys()]); // 00 01 02 … 1f
const OTHER_KEY = Buffer.alloc(KEY_BYTES, 0xa5);
const nonce = (n: number): Buffer => {
  const bytes = Buffer.alloc(NONCE_BYTES);
  bytes.writeUInt32BE(n, NONCE_BYTES - 4);
  return bytes;
};
// The stage 6 challenge a server would draw at random: fixed here.
const CHALLENGE = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64');

/** One framing case: bytes in (as the socket delivered them), frames out. */
export interface FramingVector {
  /** What the case shows. */
  name: string;
  /** The decoder's size limit for this case, in bytes, excluding the line ending. */
  maxFrameBytes: number;
  /** The reads, in order, as hex: a split between two entries is a split between two reads. */
  chunksHex: string[];
  /** Every frame the reads completed: its text, or the error code it was rejected with. */
  expected: ({ text: string } | { error: string })[];
}

/** The associated data for one context, as the exact bytes both ends must build. */
export interface AssociatedDataVector {
  /** Which frame the box travels in. */
  name: string;
  /** The inputs: protocol version, frame type, sender (stage 6 chat only). */
  parts: { v: number; type: string; sender?: string };
  /** The bytes, as UTF-8 text (they are ASCII JSON). */
  utf8: string;
}

/** A box that must open: key, nonce, associated data and plaintext in, base64 box out. */
export interface BoxVector {
  /** What the box is. */
  name: string;
  /** The 32-byte key, hex. */
  keyHex: string;
  /** The 12-byte nonce, hex (the first 12 bytes of the box). */
  nonceHex: string;
  /** The associated data, as UTF-8 text. */
  associatedData: string;
  /** The plaintext, as UTF-8 text. */
  plaintext: string;
  /** The box (`nonce | ciphertext | tag`), standard base64 with padding. */
  box: string;
}

/** A box that must NOT open, and the error code the receiver reports. */
export interface BadBoxVector {
  /** What is wrong with it. */
  name: string;
  /** The key the receiver opens with, hex. */
  keyHex: string;
  /** The associated data the receiver rebuilds, as UTF-8 text. */
  associatedData: string;
  /** The box as received, base64. */
  box: string;
  /** Always `DECRYPT_FAILED`: a receiver cannot and need not tell the causes apart. */
  error: string;
}

/** The plaintext of a credentials box, and what the stage 6 server makes of its shape. */
export interface CredentialsVector {
  /** What the case shows. */
  name: string;
  /** The opened box's text (UTF-8). */
  plaintext: string;
  /**
   * `{ ok: true }` when its shape is right (the values are checked next:
   * `BAD_USERNAME`, `BAD_PASSWORD`), or `{ ok: false, code }`.
   */
  expected: { ok: true } | { ok: false; code: string };
}

/** The whole vector file. */
export interface WireVectors {
  /** A sentence for whoever opens the file. */
  about: string;
  /** The protocol constants the vectors assume. */
  constants: Record<string, number>;
  /** Byte stream → lines (every stage from 2 on). */
  framing: FramingVector[];
  /** Associated data bytes (stages 5 and 6). */
  associatedData: AssociatedDataVector[];
  /** Boxes that open. */
  boxes: BoxVector[];
  /** Boxes that must not open. */
  badBoxes: BadBoxVector[];
  /**
   * Frame decoders, by stage and direction. Stage 8's sets hold at least one
   * valid line of every frame type its messages.ts defines, built from the
   * fixed keys of docs/e2e-vectors.json.
   */
  frames: Record<'stage5' | 'stage6' | 'stage8', FrameSet>;
  /** Stage 6 credentials: the shape the opened login or register box must have. */
  credentials: CredentialsVector[];
  /** One complete stage 6 login, from `hello` to the `login` line. */
  login: {
    /** The `hello` line the server sent. */
    helloLine: string;
    /** The username and password the user typed. */
    username: string;
    /** The password (a test value; never reuse it). */
    password: string;
    /** The credentials JSON the client seals. */
    credentials: string;
    /** The room key the box is sealed with, hex (a test key). */
    keyHex: string;
    /** The associated data of a `login` box, as UTF-8 text. */
    associatedData: string;
    /** The nonce used for this vector, hex. */
    nonceHex: string;
    /** The `login` line the client sends. */
    loginLine: string;
  };
}

const hex = (text: string | Buffer): string =>
  (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('hex');

function framing(
  name: string,
  chunks: (string | Buffer)[],
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
) {
  const decoder = new LineDecoder({ maxFrameBytes });
  const expected = chunks
    .flatMap((chunk) => decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    .map((f) => (f.ok ? { text: f.text } : { error: f.error.code }));
  return { name, maxFrameBytes, chunksHex: chunks.map(hex), expected };
}

function framingVectors(): FramingVector[] {
  return [
    framing('one line', ['hello\n']),
    framing('two lines in one read', ['hello\nbye\n']),
    framing('one line split across three reads', ['hel', 'lo wor', 'ld\n']),
    framing('CRLF: the \\r before \\n is dropped (telnet)', ['hello\r\n']),
    framing('a lone \\r inside a line is kept', ['a\rb\n']),
    framing('an empty line is a frame with empty text', ['\n']),
    framing('no newline yet: no frame', ['unfinished']),
    framing('a multi-byte character split across reads', [
      Buffer.from([0xe2, 0x82]),
      Buffer.from([0xac, 0x0a]),
    ]),
    framing('invalid UTF-8 is rejected, the next line still decodes', [
      Buffer.from([0xff, 0xfe, 0x0a, 0x6f, 0x6b, 0x0a]),
    ]),
    framing('an overlong UTF-8 encoding is invalid', [Buffer.from([0xc0, 0xaf, 0x0a])]),
    framing('a UTF-8-encoded surrogate is invalid', [Buffer.from([0xed, 0xa0, 0x80, 0x0a])]),
    framing('exactly maxFrameBytes is accepted', ['12345678\n'], 8),
    framing('maxFrameBytes plus \\r\\n is accepted', ['12345678\r\n'], 8),
    framing('one byte over is rejected, never truncated', ['123456789\nok\n'], 8),
    framing(
      'an oversized line is skipped to its newline, across reads',
      ['1234', '56789abc', 'def\nok\n'],
      8,
    ),
  ];
}

function associatedDataVectors(): AssociatedDataVector[] {
  const cases: [string, AssociatedDataVector['parts']][] = [
    ['stage 5 chat', { v: protocol.PROTOCOL_VERSION, type: 'chat' }],
    ['stage 6 chat from alice', { v: protocol.PROTOCOL_VERSION, type: 'chat', sender: 'alice' }],
    ['stage 6 register', { v: protocol.PROTOCOL_VERSION, type: 'register' }],
    ['stage 6 login', { v: protocol.PROTOCOL_VERSION, type: 'login' }],
  ];
  return cases.map(([name, parts]) => ({
    name,
    parts,
    utf8: protocol.associatedData(parts).toString('utf8'),
  }));
}

function sealVector(
  name: string,
  nonceNumber: number,
  ad: Buffer,
  plaintext: string | Buffer,
): BoxVector & { plaintextBytes: Buffer } {
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const n = nonce(nonceNumber);
  return {
    name,
    keyHex: hex(KEY),
    nonceHex: hex(n),
    associatedData: ad.toString('utf8'),
    plaintext: bytes.toString('utf8'),
    box: seal(KEY, bytes, ad, { testVectorNonce: n }).toString('base64'),
    plaintextBytes: bytes,
  };
}

const credentials = stage6.formatCredentials('alice', 'correct horse battery staple', CHALLENGE);

function boxVectors(): BoxVector[] {
  const vectors = [
    sealVector('stage 5 chat: hello', 1, stage5.chatAssociatedData(), 'hello'),
    sealVector('stage 5 chat: same text, next nonce', 2, stage5.chatAssociatedData(), 'hello'),
    sealVector('stage 5 chat: empty message', 3, stage5.chatAssociatedData(), ''),
    sealVector('stage 5 chat: non-ASCII text', 4, stage5.chatAssociatedData(), 'grüße, 世界 🙂'),
    sealVector('stage 6 chat from alice', 5, stage6.chatAssociatedData('alice'), 'hi bob'),
    sealVector(
      'stage 6 login credentials',
      6,
      stage6.credentialsAssociatedData('login'),
      credentials,
    ),
  ];
  return vectors.map(({ plaintextBytes: _bytes, ...vector }) => vector);
}

function badBoxVectors(boxes: BoxVector[]): BadBoxVector[] {
  const byName = (name: string): BoxVector => {
    const box = boxes.find((b) => b.name === name);
    if (box === undefined) throw new Error(`no box vector named ${name}`);
    return box;
  };
  const hello = byName('stage 5 chat: hello');
  const alice = byName('stage 6 chat from alice');
  const login = byName('stage 6 login credentials');
  const flip = (box: string, index: number): string => {
    const bytes = Buffer.from(box, 'base64');
    bytes[index < 0 ? bytes.length + index : index]! ^= 0x01;
    return bytes.toString('base64');
  };
  const bad = (name: string, from: BoxVector, changes: Partial<BadBoxVector>): BadBoxVector => ({
    name,
    keyHex: from.keyHex,
    associatedData: from.associatedData,
    box: from.box,
    error: 'DECRYPT_FAILED',
    ...changes,
  });
  const notUtf8 = sealVector('', 7, stage5.chatAssociatedData(), Buffer.from([0xff, 0xfe]));
  return [
    bad('tampered tag (last bit flipped)', hello, { box: flip(hello.box, -1) }),
    bad('tampered ciphertext', hello, { box: flip(hello.box, NONCE_BYTES) }),
    bad('tampered nonce', hello, { box: flip(hello.box, 0) }),
    bad('truncated: tag cut short', hello, {
      box: Buffer.from(hello.box, 'base64').subarray(0, -1).toString('base64'),
    }),
    bad('shorter than nonce + tag', hello, {
      box: Buffer.alloc(BOX_OVERHEAD - 1).toString('base64'),
    }),
    bad('wrong key', hello, { keyHex: hex(OTHER_KEY) }),
    bad('wrong associated data: stage 6 AD on a stage 5 box', hello, {
      associatedData: stage6.chatAssociatedData('alice').toString('utf8'),
    }),
    bad('forged sender: alice’s box relabelled as mallory', alice, {
      associatedData: stage6.chatAssociatedData('mallory').toString('utf8'),
    }),
    bad('a login box replayed as register', login, {
      associatedData: stage6.credentialsAssociatedData('register').toString('utf8'),
    }),
    bad('authentic box whose plaintext is not UTF-8', notUtf8, {}),
  ];
}

function stage5Frames(boxes: BoxVector[]): WireVectors['frames']['stage5'] {
  const box = boxes[0]!.box;
  const c = (intent: Intent, name: string, input: Parameters<typeof frameVector>[3]) =>
    frameVector(stage5.decodeClientFrame, intent, name, input);
  const s = (intent: Intent, name: string, input: Parameters<typeof frameVector>[3]) =>
    frameVector(stage5.decodeServerFrame, intent, name, input);
  const peer = '127.0.0.1:54012';
  return {
    clientToServer: [
      c('valid', 'chat', line({ type: 'chat', box })),
      c('invalid', 'not JSON', '{"type":"chat","box":'),
      c('invalid', 'a JSON array, not an object', '["chat"]'),
      c('invalid', 'no type', line({ box })),
      c('invalid', 'unknown type', line({ type: 'shout', box })),
      c('invalid', 'missing field', line({ type: 'chat' })),
      c('invalid', 'extra field', line({ type: 'chat', box, from: peer })),
      c('invalid', 'null where a string belongs', '{"type":"chat","box":null}'),
      c(
        'invalid',
        'box is not canonical base64',
        line({ type: 'chat', box: box.slice(0, -2) + '!!' }),
      ),
      c('invalid', 'box shorter than nonce + tag', line({ type: 'chat', box: 'AAAA' })),
      c('invalid', `longer than ${protocol.MAX_FRAME_BYTES} bytes`, {
        prefix: '{"type":"chat","box":"',
        repeat: 'A',
        count: protocol.MAX_FRAME_BYTES,
        suffix: '"}',
      }),
    ],
    serverToClient: [
      s('valid', 'welcome', line({ type: 'welcome', you: peer, online: 2 })),
      s('valid', 'joined', line({ type: 'joined', who: '127.0.0.1:54013', online: 3 })),
      s('valid', 'chat relay', line({ type: 'chat', from: peer, box })),
      s('valid', 'left', line({ type: 'left', who: '127.0.0.1:54013', online: 2 })),
      s(
        'valid',
        'error',
        line({ type: 'error', code: 'BAD_FRAME', message: 'frame is not valid JSON' }),
      ),
      s(
        'valid',
        'shutdown',
        // What the stage 5 server sends (tools/test/protocol-examples.test.ts checks it).
        line({ type: 'error', code: 'SHUTTING_DOWN', message: 'server shutting down' }),
      ),
      s(
        'valid',
        'a count written 2.0 is the whole number 2',
        '{"type":"joined","who":"127.0.0.1:54013","online":2.0}',
      ),
      s(
        'valid',
        'a count written 1e2 is the whole number 100',
        '{"type":"joined","who":"127.0.0.1:54013","online":1e2}',
      ),
      s(
        'valid',
        'a message of 500 characters that are 1,000 UTF-16 units (emoji)',
        line({ type: 'error', code: 'BAD_FRAME', message: '🙂'.repeat(500) }),
      ),
      s(
        'invalid',
        'error with an unknown code',
        line({ type: 'error', code: 'OOPS', message: '' }),
      ),
      s('invalid', 'lone surrogate in a string', '{"type":"joined","who":"\\ud800","online":1}'),
      s('invalid', 'negative count', line({ type: 'left', who: peer, online: -1 })),
      s('invalid', 'fractional count', line({ type: 'left', who: peer, online: 1.5 })),
      s('invalid', 'a count of -0', `{"type":"left","who":"${peer}","online":-0}`),
      s('invalid', 'a count past its bound', line({ type: 'left', who: peer, online: 1_000_001 })),
      s(
        'invalid',
        'a message of 501 characters',
        line({ type: 'error', code: 'BAD_FRAME', message: '🙂'.repeat(501) }),
      ),
    ],
  };
}

function stage6Frames(boxes: BoxVector[]): WireVectors['frames']['stage6'] {
  const chatBox = boxes.find((b) => b.name === 'stage 6 chat from alice')!.box;
  const loginBox = boxes.find((b) => b.name === 'stage 6 login credentials')!.box;
  const many = Array.from({ length: stage6.MAX_LISTED_USERS + 1 }, (_, i) => `user${i}`);
  const c = (intent: Intent, name: string, input: Parameters<typeof frameVector>[3]) =>
    frameVector(stage6.decodeClientFrame, intent, name, input);
  const s = (intent: Intent, name: string, input: Parameters<typeof frameVector>[3]) =>
    frameVector(stage6.decodeServerFrame, intent, name, input);
  return {
    clientToServer: [
      c('valid', 'login', line({ type: 'login', box: loginBox })),
      c('valid', 'register', line({ type: 'register', box: loginBox })),
      c('valid', 'chat', line({ type: 'chat', box: chatBox })),
      c('valid', 'who', line({ type: 'who' })),
      c('invalid', 'chat claiming a sender', line({ type: 'chat', from: 'bob', box: chatBox })),
      c('invalid', 'who with a field', line({ type: 'who', online: [] })),
      c('invalid', 'login without a box', line({ type: 'login' })),
      c('invalid', 'login box shorter than nonce + tag', line({ type: 'login', box: 'AAAA' })),
      c('invalid', 'unknown type', line({ type: 'hello', challenge: CHALLENGE })),
    ],
    serverToClient: [
      s('valid', 'hello', line({ type: 'hello', challenge: CHALLENGE })),
      s(
        'valid',
        'welcome',
        line({ type: 'welcome', user: 'alice', count: 2, online: ['bob', 'alice'] }),
      ),
      s('valid', 'who', line({ type: 'who', count: 2, online: ['bob', 'alice'] })),
      s('valid', 'chat relay', line({ type: 'chat', from: 'alice', box: chatBox })),
      s('valid', 'joined', line({ type: 'joined', who: 'bob', online: 2 })),
      s('valid', 'left', line({ type: 'left', who: 'bob', online: 1 })),
      s('valid', 'bye', line({ type: 'bye', reason: 'server shutting down' })),
      s(
        'valid',
        'error',
        line({ type: 'error', code: 'AUTH_FAILED', message: 'wrong username or password' }),
      ),
      s(
        'invalid',
        'hello with a 15-byte challenge',
        line({ type: 'hello', challenge: 'AAAAAAAAAAAAAAAAAAAA' }),
      ),
      s('invalid', 'chat relay without a sender', line({ type: 'chat', box: chatBox })),
      s('invalid', 'empty username', line({ type: 'joined', who: '', online: 1 })),
      s(
        'invalid',
        `who listing more than ${stage6.MAX_LISTED_USERS} names`,
        line({ type: 'who', count: 99, online: many }),
      ),
      s(
        'invalid',
        'username longer than 32 characters',
        line({ type: 'left', who: 'x'.repeat(33), online: 0 }),
      ),
    ],
  };
}

function credentialsVectors(): CredentialsVector[] {
  const cases: [string, string][] = [
    ['exactly username, password and challenge', credentials],
    [
      'the same fields in another order',
      JSON.stringify({ challenge: CHALLENGE, password: 'pw', username: 'alice' }),
    ],
    ['not JSON', '{"username":"alice",'],
    ['a JSON array', '["alice","pw","c"]'],
    ['a JSON string', '"alice"'],
    ['the challenge missing', JSON.stringify({ username: 'alice', password: 'pw' })],
    [
      'an extra field',
      JSON.stringify({ username: 'alice', password: 'pw', challenge: CHALLENGE, admin: true }),
    ],
    [
      'a number for a username: the shape is right (the value gets BAD_USERNAME)',
      JSON.stringify({ username: 0, password: 'pw', challenge: CHALLENGE }),
    ],
  ];
  return cases.map(([name, plaintext]) => {
    try {
      stage6.parseCredentials(plaintext);
      return { name, plaintext, expected: { ok: true as const } };
    } catch (err) {
      return {
        name,
        plaintext,
        expected: { ok: false as const, code: (err as { code: string }).code },
      };
    }
  });
}

/** Computes the whole vector file from the real modules. Deterministic. */
export function buildWireVectors(): WireVectors {
  const boxes = boxVectors();
  const loginBox = boxes.find((b) => b.name === 'stage 6 login credentials')!;
  return {
    about:
      'Test vectors for the socket chat wire protocol, generated by tools/wire-vectors.ts from the real modules (npm run docs:generate). docs/protocol.md explains every section. Keys and nonces are fixed test values: never use them for anything else.',
    constants: {
      protocolVersion: protocol.PROTOCOL_VERSION,
      maxLineBytesStages2to4: DEFAULT_MAX_FRAME_BYTES,
      maxFrameBytesStages5and6: protocol.MAX_FRAME_BYTES,
      maxTextBytes: protocol.MAX_TEXT_BYTES,
      keyBytes: KEY_BYTES,
      nonceBytes: NONCE_BYTES,
      tagBytes: TAG_BYTES,
      challengeBytes: stage6.CHALLENGE_BYTES,
      maxListedUsers: stage6.MAX_LISTED_USERS,
    },
    framing: framingVectors(),
    associatedData: associatedDataVectors(),
    boxes,
    badBoxes: badBoxVectors(boxes),
    frames: { stage5: stage5Frames(boxes), stage6: stage6Frames(boxes), stage8: stage8Frames() },
    credentials: credentialsVectors(),
    login: {
      helloLine: line({ type: 'hello', challenge: CHALLENGE }),
      username: 'alice',
      password: 'correct horse battery staple',
      credentials,
      keyHex: loginBox.keyHex,
      associatedData: loginBox.associatedData,
      nonceHex: loginBox.nonceHex,
      loginLine: line({ type: 'login', box: loginBox.box }),
    },
  };
}
