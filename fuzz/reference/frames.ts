/**
 * The stage 5 and stage 6 frame vocabularies written out a second time, from
 * the protocol description rather than from the code: for every frame type,
 * its exact fields, a predicate for each field, and a generator of valid
 * values. The decoders must accept exactly what this spec accepts.
 *
 * It deliberately does not import the schemas from shared/src/protocol.ts or
 * stage6-auth/src/messages.ts (only the closed list of error codes, which *is*
 * the spec), so a mistake in a schema shows up as a disagreement.
 */
import fc from 'fast-check';
import { ERROR_CODES } from '../../shared/src/errors';
import { isWellFormed } from './utf8';

/** Longest frame in UTF-8 bytes in stages 5 and 6 (16 KiB). */
export const SPEC_MAX_FRAME_BYTES = 16 * 1024;
/** nonce (12) + tag (16): the smallest box. */
const BOX_OVERHEAD = 28;

/** One field's rule and a generator of values that follow it. */
export interface FieldSpec {
  /** Does `value` satisfy the rule? */
  accepts(value: unknown): boolean;
  /** Values that satisfy it (not all of them: the interesting ones). */
  valid: fc.Arbitrary<unknown>;
  /** Values at or just past its edges, valid or not. */
  edges: fc.Arbitrary<unknown>;
}

/** One frame type: its tag and the exact set of other fields. */
export interface SpecSchema {
  /** The `type` value. */
  type: string;
  /** Field name → rule. */
  fields: Record<string, FieldSpec>;
}

// "Characters" are Unicode code points (docs/protocol.md), not UTF-16 units.
const characters = (v: string): number => [...v].length;

function text(min: number, max: number): FieldSpec {
  const accepts = (v: unknown) =>
    typeof v === 'string' && isWellFormed(v) && characters(v) >= min && characters(v) <= max;
  return {
    accepts,
    valid: fc
      .oneof(
        fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }),
        fc.string({ unit: 'binary', minLength: min, maxLength: Math.min(max, 40) }),
        fc.constant('x'.repeat(max)),
      )
      .filter(accepts),
    edges: fc.constantFrom(
      'x'.repeat(max),
      'x'.repeat(max + 1),
      'x'.repeat(Math.max(0, min - 1)),
      '🙂'.repeat(max), // max characters, twice as many UTF-16 units
      '🙂'.repeat(max + 1),
      '\uD800',
      'a\uDC00',
      '\uD83D\uDE00',
      '\u0000\u001b[2J',
    ),
  };
}

function integer(min: number, max: number): FieldSpec {
  return {
    // A whole number by value (2.0 is 2), but not -0 (docs/protocol.md).
    accepts: (v) =>
      typeof v === 'number' &&
      Number.isInteger(v) &&
      !Object.is(v, -0) &&
      Math.abs(v) <= 2 ** 53 - 1 &&
      v >= min &&
      v <= max,
    valid: fc.integer({ min, max }),
    edges: fc.constantFrom(min, max, min - 1, max + 1, 0.5, -0, 2 ** 53, 1e21, '1', null, true),
  };
}

function base64(minBytes: number, maxBytes: number): FieldSpec {
  return {
    accepts: (v) => {
      if (typeof v !== 'string' || v.length % 4 !== 0) return false;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return false;
      const bytes = Buffer.from(v, 'base64');
      // Canonical: the only string that decodes to these bytes (padding bits zero, padding present).
      return bytes.toString('base64') === v && bytes.length >= minBytes && bytes.length <= maxBytes;
    },
    valid: fc
      .oneof(
        fc.uint8Array({ minLength: minBytes, maxLength: Math.min(maxBytes, minBytes + 48) }),
        fc.constant(new Uint8Array(maxBytes).fill(0xa5)),
      )
      .map((b) => Buffer.from(b).toString('base64')),
    edges: fc.constantFrom(
      Buffer.alloc(maxBytes + 1, 1).toString('base64'),
      Buffer.alloc(Math.max(0, minBytes - 1), 1).toString('base64'),
      Buffer.alloc(minBytes + 1, 1)
        .toString('base64')
        .replace(/=+$/, ''), // unpadded
      Buffer.alloc(minBytes + 2, 0xfb).toString('base64url'),
      ' ' + Buffer.alloc(minBytes, 2).toString('base64'),
      Buffer.alloc(minBytes + 1, 0)
        .toString('base64')
        .replace(/A==$/, 'B=='), // padding bits set
      '',
    ),
  };
}

const errorCodes = Object.keys(ERROR_CODES);
const code: FieldSpec = {
  accepts: (v) => typeof v === 'string' && Object.hasOwn(ERROR_CODES, v),
  valid: fc.constantFrom(...errorCodes),
  edges: fc.constantFrom('toString', '__proto__', 'constructor', 'bad_frame', 'BAD_FRAME ', ''),
};

function list(item: FieldSpec, maxItems: number): FieldSpec {
  return {
    accepts: (v) => Array.isArray(v) && v.length <= maxItems && v.every((x) => item.accepts(x)),
    valid: fc.oneof(
      fc.array(item.valid, { maxLength: 6 }),
      fc.constant(Array.from({ length: maxItems }, (_, i) => `u${i}`)),
    ),
    edges: fc.constantFrom(
      [],
      [''],
      [1],
      ['a', null],
      'alice',
      { 0: 'a', length: 1 },
      Array.from({ length: maxItems + 1 }, (_, i) => `u${i}`),
    ),
  };
}

const peer = text(1, 64);
const user = text(1, 32);
const count = integer(0, 1_000_000);
const chatBox = base64(BOX_OVERHEAD, 4096 + BOX_OVERHEAD);
const credentialsBox = base64(BOX_OVERHEAD, 1024 + BOX_OVERHEAD);
const errorFrame: SpecSchema = { type: 'error', fields: { code, message: text(0, 500) } };

/** A named set of frame types one side of one stage accepts. */
export interface Vocabulary {
  /** e.g. `stage6 client→server`. */
  name: string;
  /** The frame types. */
  schemas: SpecSchema[];
}

/** Stage 5, what clients send. */
export const STAGE5_CLIENT: Vocabulary = {
  name: 'stage5 client→server',
  schemas: [{ type: 'chat', fields: { box: chatBox } }],
};
/** Stage 5, what the server sends. */
export const STAGE5_SERVER: Vocabulary = {
  name: 'stage5 server→client',
  schemas: [
    { type: 'chat', fields: { from: peer, box: chatBox } },
    { type: 'welcome', fields: { you: peer, online: count } },
    { type: 'joined', fields: { who: peer, online: count } },
    { type: 'left', fields: { who: peer, online: count } },
    errorFrame,
  ],
};
/** Stage 6, what clients send. */
export const STAGE6_CLIENT: Vocabulary = {
  name: 'stage6 client→server',
  schemas: [
    { type: 'register', fields: { box: credentialsBox } },
    { type: 'login', fields: { box: credentialsBox } },
    { type: 'chat', fields: { box: chatBox } },
    { type: 'who', fields: {} },
  ],
};
/** Stage 6, what the server sends. */
export const STAGE6_SERVER: Vocabulary = {
  name: 'stage6 server→client',
  schemas: [
    { type: 'hello', fields: { challenge: base64(16, 16) } },
    // `count` users are online; `online` names at most 50 of them.
    { type: 'welcome', fields: { user, count, online: list(user, 50) } },
    { type: 'who', fields: { count, online: list(user, 50) } },
    { type: 'chat', fields: { from: user, box: chatBox } },
    { type: 'joined', fields: { who: user, online: count } },
    { type: 'left', fields: { who: user, online: count } },
    { type: 'bye', fields: { reason: text(0, 200) } },
    errorFrame,
  ],
};

/** Every vocabulary, for generators that mix them (a client frame sent to a client...). */
export const VOCABULARIES = [STAGE5_CLIENT, STAGE5_SERVER, STAGE6_CLIENT, STAGE6_SERVER];

/** What the spec says about one line of text: the frame, or the error code. */
export type SpecVerdict =
  { ok: true; frame: Record<string, unknown> } | { ok: false; code: string };

/**
 * Judges one line against a vocabulary, the way the protocol describes it:
 * size first, then JSON, then an object with a known string `type` and
 * exactly that type's fields, each valid.
 *
 * @param vocabulary - the frame types accepted
 * @param line - one frame's text
 */
export function judge(vocabulary: Vocabulary, line: string): SpecVerdict {
  if (Buffer.byteLength(line, 'utf8') > SPEC_MAX_FRAME_BYTES) {
    return { ok: false, code: 'FRAME_TOO_LARGE' };
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, code: 'BAD_FRAME' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'BAD_FRAME' };
  }
  const object = value as Record<string, unknown>;
  const schema = vocabulary.schemas.find((s) => s.type === object.type);
  if (schema === undefined || !Object.hasOwn(object, 'type'))
    return { ok: false, code: 'BAD_FRAME' };
  const expectedKeys = ['type', ...Object.keys(schema.fields)].sort();
  const keys = Object.keys(object).sort();
  if (keys.join('\u0000') !== expectedKeys.join('\u0000')) return { ok: false, code: 'BAD_FRAME' };
  for (const [name, field] of Object.entries(schema.fields)) {
    if (!field.accepts(object[name])) return { ok: false, code: 'BAD_FRAME' };
  }
  return { ok: true, frame: object };
}

/** A valid frame of one of the vocabulary's types, as an object. */
export function validFrame(vocabulary: Vocabulary): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    ...vocabulary.schemas.map((schema) =>
      fc
        .record(Object.fromEntries(Object.entries(schema.fields).map(([k, f]) => [k, f.valid])))
        .map((fields) => ({ type: schema.type, ...(fields as Record<string, unknown>) })),
    ),
  );
}
