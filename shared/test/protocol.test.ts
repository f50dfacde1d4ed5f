import fc from 'fast-check';
import { base64ByteLength, isBase64, isBase64Bytes } from '../src/base64';
import { BOX_OVERHEAD } from '../src/crypto';
import { ChatError } from '../src/errors';
import { LineDecoder } from '../src/framing';
import {
  anyField,
  arrayField,
  associatedData,
  base64Field,
  CHAT_REQUEST,
  createDecoder,
  createObjectDecoder,
  encodeJsonFrame,
  encodeJsonFrames,
  ERROR_FRAME,
  frameSchema,
  integerField,
  MAX_FRAME_BYTES,
  MAX_TEXT_BYTES,
  stringField,
} from '../src/protocol';

// The shared frames, decoded as each stage's server and client do; the
// stages' own frames are tested in their messages tests.
const decodeClientFrame = createDecoder([CHAT_REQUEST]);
const NOTICE = frameSchema('notice', {
  who: stringField({ minLength: 1, maxLength: 64 }),
  online: integerField({ min: 0, max: 1_000_000 }),
});
const decodeServerFrame = createDecoder([ERROR_FRAME, NOTICE]);

const box = Buffer.alloc(40, 7).toString('base64');

function errorCode(result: { ok: boolean; error?: { code: string } }): string | undefined {
  return result.ok ? undefined : result.error!.code;
}

describe('the shared frames and the decoder', () => {
  test('valid frames decode to typed objects and encode as one line', () => {
    expect(decodeClientFrame(JSON.stringify({ type: 'chat', box }))).toEqual({
      ok: true,
      frame: { type: 'chat', box },
    });
    const frames = [
      { type: 'error', code: 'BAD_FRAME', message: 'frame is not valid JSON' },
      { type: 'notice', who: '[::1]:4000', online: 3 },
    ] as const;
    for (const frame of frames) {
      const bytes = encodeJsonFrame(frame);
      expect(bytes.at(-1)).toBe(0x0a);
      expect(bytes.indexOf(0x0a)).toBe(bytes.length - 1);
      expect(decodeServerFrame(bytes.subarray(0, -1).toString())).toEqual({ ok: true, frame });
    }
  });

  test('encodeJsonFrames gives the bytes of encodeJsonFrame for each, in one buffer', () => {
    const frames = [
      { type: 'notice', who: 'a', online: 1 },
      { type: 'error', code: 'BAD_FRAME', message: 'line\nbreak' },
    ];
    expect(encodeJsonFrames(frames)).toEqual(Buffer.concat(frames.map((f) => encodeJsonFrame(f))));
    expect(encodeJsonFrames([])).toEqual(Buffer.alloc(0));
  });

  test('a frame is one line whatever its strings hold: JSON escapes every line break', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (message) => {
        const frame = { type: 'error', code: 'BAD_FRAME', message };
        const bytes = encodeJsonFrame(frame);
        expect(bytes.indexOf(0x0a)).toBe(bytes.length - 1);
        expect(bytes.includes(0x0d)).toBe(false);
      }),
    );
  });

  test.each([
    ['not JSON', '{"type":"chat",'],
    ['a JSON string', '"chat"'],
    ['an array', '[{"type":"chat"}]'],
    ['null', 'null'],
    ['no type', `{"box":"${box}"}`],
    ['a numeric type', `{"type":5,"box":"${box}"}`],
    ['an unknown type', `{"type":"shout","box":"${box}"}`],
    ['a missing field', '{"type":"chat"}'],
    ['an extra field', `{"type":"chat","box":"${box}","from":"me"}`],
    ['a __proto__ field', `{"type":"chat","box":"${box}","__proto__":{}}`],
    ['a null box', '{"type":"chat","box":null}'],
    ['a numeric box', '{"type":"chat","box":12}'],
    ['base64 with junk', `{"type":"chat","box":"${box.slice(0, -4)}*AAA"}`],
    [
      'base64 without padding',
      `{"type":"chat","box":"${Buffer.alloc(41).toString('base64').replace(/=+$/, '')}"}`,
    ],
    ['base64 with whitespace', `{"type":"chat","box":"${box.slice(0, 8)} ${box.slice(8)}"}`],
    ['non-canonical base64 padding bits', `{"type":"chat","box":"${'A'.repeat(40)}AB=="}`],
    ['URL-safe base64', `{"type":"chat","box":"${'-_'.repeat(20)}"}`],
    [
      'a box shorter than nonce + tag',
      `{"type":"chat","box":"${Buffer.alloc(BOX_OVERHEAD - 1).toString('base64')}"}`,
    ],
    [
      'a box over the text limit',
      `{"type":"chat","box":"${Buffer.alloc(MAX_TEXT_BYTES + BOX_OVERHEAD + 1).toString('base64')}"}`,
    ],
  ])('a client frame with %s is BAD_FRAME', (_name, text) => {
    expect(errorCode(decodeClientFrame(text))).toBe('BAD_FRAME');
  });

  test('its errors carry no stack, and stack traces stay on for everyone else', () => {
    // One error per bad frame, thousands per read from a flooding client:
    // capturing a stack for each was most of what answering one cost.
    const limit = Error.stackTraceLimit;
    const oversized = JSON.stringify({ type: 'chat', box: 'A'.repeat(MAX_FRAME_BYTES) });
    for (const text of ['x', '{"type":"chat",', '{}', '{"type":"shout"}', oversized]) {
      const result = decodeClientFrame(text);
      if (result.ok) throw new Error(`${text} decoded`);
      expect(result.error).toBeInstanceOf(ChatError);
      expect(result.error.stack).not.toMatch(/\n\s+at /);
      expect(Error.stackTraceLimit).toBe(limit);
    }
    expect(new Error('a bug').stack).toMatch(/\n\s+at /);
  });

  test('an oversized frame is FRAME_TOO_LARGE, checked before parsing', () => {
    const text = JSON.stringify({ type: 'chat', box: 'A'.repeat(MAX_FRAME_BYTES) });
    expect(errorCode(decodeClientFrame(text))).toBe('FRAME_TOO_LARGE');
  });

  test('wrong types, negative counts, lone surrogates, unknown codes are BAD_FRAME', () => {
    for (const bad of [
      { type: 'notice', who: 'x', online: -1 },
      { type: 'notice', who: 'x', online: 1.5 },
      { type: 'notice', who: 'x', online: '2' },
      { type: 'notice', who: '', online: 1 },
      { type: 'notice', who: 'a\ud800b', online: 1 },
      { type: 'notice', who: 'x'.repeat(65), online: 1 },
      { type: 'error', code: 'NOT_A_CODE', message: 'm' },
      { type: 'error', code: 'toString', message: 'm' },
      { type: 'chat', box },
    ]) {
      expect(errorCode(decodeServerFrame(JSON.stringify(bad)))).toBe('BAD_FRAME');
    }
  });

  test('error messages quote untrusted names JSON-escaped and truncated', () => {
    const result = decodeClientFrame(JSON.stringify({ type: `\x1b[2J${'x'.repeat(100)}` }));
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.error.message;
    expect(message).not.toContain('\x1b');
    expect(message.length).toBeLessThan(100);
  });
});

describe('an object decoder (a JSON object that is not a frame)', () => {
  const decode = createObjectDecoder(
    'point',
    { x: integerField({ min: 0, max: 9 }), note: anyField },
    { maxBytes: 64 },
  );
  const verdict = (text: string) => {
    const d = decode(text);
    return d.ok ? d.frame : `${d.error.code}: ${d.error.message}`;
  };

  test('exactly its fields, with the schema rules of a frame; anyField takes any value', () => {
    expect(verdict('{"x":1,"note":{"any":["thing"]}}')).toEqual({ x: 1, note: { any: ['thing'] } });
    expect(verdict('{"x":1,"note":null}')).toEqual({ x: 1, note: null });
    expect(verdict('{"x":1}')).toBe('BAD_FRAME: point is missing "note"');
    expect(verdict('{"x":1,"note":0,"y":2}')).toBe('BAD_FRAME: point has unexpected field "y"');
    expect(verdict('{"x":"1","note":0}')).toBe(
      'BAD_FRAME: point field "x" must be an integer from 0 to 9',
    );
    // No `type` is needed, and one is an unexpected field like any other.
    expect(verdict('{"type":"p","x":1,"note":0}')).toBe(
      'BAD_FRAME: point has unexpected field "type"',
    );
    expect(verdict('[1]')).toBe('BAD_FRAME: point is not a JSON object');
    expect(verdict('{')).toBe('BAD_FRAME: point is not valid JSON');
    expect(verdict(`{"x":1,"note":"${'a'.repeat(64)}"}`)).toBe(
      'FRAME_TOO_LARGE: point longer than 64 bytes',
    );
  });
});

describe('associated data', () => {
  test('has fixed, documented bytes and differs by version, type and sender', () => {
    expect(associatedData({ v: 1, type: 'chat' }).toString()).toBe('["socket-chat",1,"chat",null]');
    const variants = [
      associatedData({ v: 1, type: 'chat' }),
      associatedData({ v: 2, type: 'chat' }),
      associatedData({ v: 1, type: 'login' }),
      associatedData({ v: 1, type: 'chat', sender: 'alice' }),
      associatedData({ v: 1, type: 'chat', sender: 'bob' }),
      associatedData({ v: 1, type: 'chat","alice' }), // no ambiguity by concatenation
    ].map((b) => b.toString('hex'));
    expect(new Set(variants).size).toBe(variants.length);
  });
});

describe('validation helpers', () => {
  test('base64: canonical encodings of any bytes pass and report their length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(isBase64(text)).toBe(true);
        expect(base64ByteLength(text)).toBe(bytes.length);
        expect(base64ByteLength(Buffer.from(text, 'latin1'))).toBe(bytes.length);
      }),
    );
  });

  test('base64: any string isBase64 accepts decodes and re-encodes to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 40 }), (text) => {
        if (isBase64(text)) expect(Buffer.from(text, 'base64').toString('base64')).toBe(text);
      }),
    );
  });

  test('base64: the padding check agrees with a decode and re-encode on padded strings', () => {
    // Strings of the base64 alphabet ending in "=" or "==": the case where a
    // last character with non-zero unused bits would decode like another.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const char = fc.constantFrom(...alphabet);
    const padded = fc
      .tuple(fc.array(char, { maxLength: 12 }), fc.constantFrom(1, 2))
      .map(([chars, pad]) => {
        const body = chars.join('').padEnd(Math.ceil((chars.length + pad) / 4) * 4 - pad, 'A');
        return body + '='.repeat(pad);
      });
    fc.assert(
      fc.property(padded, (text) => {
        const roundTrips = Buffer.from(text, 'base64').toString('base64') === text;
        expect(isBase64(text)).toBe(roundTrips);
      }),
      { numRuns: 2000 },
    );
    expect(isBase64('AB==')).toBe(false); // B's low bits are not zero
    expect(isBase64('AQ==')).toBe(true);
    expect(isBase64('AAB=')).toBe(false);
    expect(isBase64('AAE=')).toBe(true);
  });

  test('base64: a character outside ASCII is refused, not read as its low byte', () => {
    // Ł is U+0141; as latin1 it would be 0x41, an "A".
    expect(isBase64('AAA\u0141')).toBe(false);
    expect(isBase64Bytes(Buffer.from('AAA\u0141', 'latin1'))).toBe(true);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (text) => {
        // eslint-disable-next-line no-control-regex
        const ascii = /^[\x00-\x7f]*$/.test(text);
        expect(isBase64(text)).toBe(ascii && isBase64Bytes(Buffer.from(text, 'latin1')));
      }),
      { numRuns: 2000 },
    );
  });

  test('base64: a field checks bytes exactly as it checks their text', () => {
    const field = base64Field({ minBytes: 2, maxBytes: 7 });
    const alphabetText = fc
      .array(
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=x'),
        {
          maxLength: 16,
        },
      )
      .map((chars) => chars.join(''));
    const encoded = fc.uint8Array({ maxLength: 9 }).map((b) => Buffer.from(b).toString('base64'));
    fc.assert(
      fc.property(fc.oneof(alphabetText, encoded), (text) => {
        expect(field.acceptsBytes(Buffer.from(text, 'latin1'))).toBe(field.accepts(text));
      }),
      { numRuns: 3000 },
    );
  });

  test('a custom schema (as stage 6 builds its own) decodes exactly its fields', () => {
    const HELLO = frameSchema('hello', {
      names: arrayField(stringField({ minLength: 1, maxLength: 8 }), { maxItems: 3 }),
      n: integerField({ min: 0, max: 10 }),
      blob: base64Field({ minBytes: 1, maxBytes: 4 }),
    });
    const decode = createDecoder([HELLO], { maxBytes: 200 });
    const good = { type: 'hello', names: ['a', 'b'], n: 3, blob: 'AQI=' };
    expect(decode(JSON.stringify(good))).toEqual({ ok: true, frame: good });
    for (const bad of [
      { ...good, names: ['a', 'b', 'c', 'd'] },
      { ...good, names: [''] },
      { ...good, names: 'a' },
      { ...good, n: 11 },
      { ...good, blob: 'AQIDBAU=' },
      { ...good, blob: '' },
    ]) {
      expect(errorCode(decode(JSON.stringify(bad)))).toBe('BAD_FRAME');
    }
    expect(errorCode(decode(JSON.stringify({ ...good, pad: 'x'.repeat(200) })))).toBe(
      'FRAME_TOO_LARGE',
    );
    expect(() => createDecoder([HELLO, HELLO])).toThrow();
    expect(() => frameSchema('x', { type: stringField({ maxLength: 1 }) })).toThrow();
  });
});

describe('decoders never throw (property tests)', () => {
  const decoders = { client: decodeClientFrame, server: decodeServerFrame };
  const check = (text: string) => {
    for (const decode of Object.values(decoders)) {
      const result = decode(text);
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(result.error.code);
    }
  };

  test('random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => check(JSON.stringify(value))),
      {
        numRuns: 500,
      },
    );
  });

  test('random objects that look like frames (known types, plausible fields)', () => {
    const types = fc.constantFrom('chat', 'notice', 'error', 'x', '');
    const values = fc.oneof(
      fc.jsonValue(),
      fc.constant(box),
      fc.base64String(),
      fc.constantFrom('BAD_FRAME', 'hasOwnProperty', '__proto__'),
    );
    const keys = fc.constantFrom('box', 'who', 'online', 'code', 'message', 'x');
    fc.assert(
      fc.property(types, fc.dictionary(keys, values), (type, fields) =>
        check(JSON.stringify({ ...fields, type })),
      ),
      { numRuns: 1000 },
    );
  });

  test('random strings, including lone surrogates and control characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), {
      numRuns: 500,
    });
  });

  test('random bytes through the line decoder and then the frame decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const lines = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES }).push(
          Buffer.concat([bytes, Buffer.of(0x0a)]),
        );
        for (const line of lines) if (line.ok) check(line.text);
      }),
      { numRuns: 500 },
    );
  });
});
