/**
 * JSON frames: strict validation helpers, associated data, and the frames
 * stages 5 and 6 share.
 *
 * Introduced by stage 5, reused by stage 6. From stage 5 on, every frame is one
 * JSON object on one line (framed by the framing module), with a string `type`.
 * Each stage declares its own vocabulary with these helpers in its
 * `messages.ts`; server and client import that one module, so neither formats
 * or parses a frame by hand, and both agree on what a valid frame is. The chat
 * request and the error frame, which both stages speak unchanged, are here.
 *
 * Every inbound frame is untrusted. A decoder built with {@link createDecoder}
 * checks size, JSON syntax, the `type`, and that the object has *exactly* the
 * schema's fields with the right types (no missing, no extra, no `null` where
 * a string belongs, no loose base64). It never throws: it returns
 * `{ ok: false, error }` with a `ChatError` the caller sends back as an error
 * frame.
 *
 * @example
 * ```ts
 * const PING = frameSchema('ping', { seq: integerField({ min: 0, max: 9 }) });
 * const decode = createDecoder([PING]);
 * decode('{"type":"ping","seq":1}'); //=> { ok: true, frame: { type: 'ping', seq: 1 } }
 * decode('{"type":"ping"}').ok;      //=> false (BAD_FRAME: missing field "seq")
 * ```
 *
 * @module
 */
import { base64ByteLength, isBase64, isBase64Bytes } from './base64';
import { BOX_OVERHEAD } from './crypto';
import { ChatError, ERROR_CODES, type ChatErrorCode } from './errors';

/** The protocol version, bound into every box's associated data. */
export const PROTOCOL_VERSION = 1;
/** Longest frame in bytes for stages 5 and 6 (JSON plus base64 costs room). */
export const MAX_FRAME_BYTES = 16 * 1024;

/**
 * Whether a frame a server relays still fits a reader's line limit. A relay
 * labels what a client sent (`from`), so it is longer: near the limit, with
 * a long name and a text of control characters (6 bytes each, escaped), it
 * would not fit, and every reader would drop it. The sender is told instead.
 *
 * @param relay - the encoded frame, ending in `\n`
 * @returns `FRAME_TOO_LARGE` for the sender, or `undefined` if it fits
 */
export function relayTooLarge(relay: Buffer): ChatError | undefined {
  if (relay.length - 1 <= MAX_FRAME_BYTES) return undefined;
  return new ChatError(
    'FRAME_TOO_LARGE',
    `this message is ${relay.length - 1} bytes once it carries your name; the limit is ${MAX_FRAME_BYTES}`,
  );
}

/** A decoder's answer: the typed frame, or the error to report. Never a throw. */
export type Decoded<F> = DecodedOk<F> | DecodedError;

/** A frame that passed validation. */
export interface DecodedOk<F> {
  /** Always `true`. */
  ok: true;
  /** The validated frame, typed. */
  frame: F;
}

/** A frame that failed validation, and why. */
export interface DecodedError {
  /** Always `false`. */
  ok: false;
  /** `BAD_FRAME` or `FRAME_TOO_LARGE`, with a message naming the problem. */
  error: ChatError;
}

/**
 * A validator for one field: a type guard plus words for the error message
 * (`field "box" must be ${expected}`).
 */
export interface Field<T> {
  /** What a valid value looks like, e.g. `"a string of 1-64 characters"`. */
  readonly expected: string;
  /** True if `value` is valid; narrows it to `T`. */
  readonly accepts: (value: unknown) => value is T;
  /** True if a frame may leave the field out (see {@link optionalField}). */
  readonly optional?: true;
}

/** A field a frame may leave out (see {@link optionalField}). */
export interface OptionalField<T> extends Field<T> {
  /** Always `true`: the frame is valid without this field. */
  readonly optional: true;
}

/**
 * A field a frame may leave out; when present it must pass `field`.
 *
 * @param field - the validator for the value
 */
export function optionalField<T>(field: Field<T>): OptionalField<T> {
  return { ...field, expected: `absent, or ${field.expected}`, optional: true };
}

// A lone UTF-16 surrogate cannot be encoded as UTF-8; with the `u` flag a valid
// pair is one code point, so this only matches the lone halves JSON can smuggle in.
const LONE_SURROGATE = /\p{Cs}/u;
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/**
 * A string field of well-formed Unicode text.
 *
 * Lengths count **characters as Unicode code points**, the rule the password
 * policy uses too: an emoji is one character, although JavaScript's
 * `length` (UTF-16 code units) says 2.
 *
 * @param options - inclusive length bounds in code points (`minLength` defaults to 0)
 */
export function stringField(options: { minLength?: number; maxLength: number }): Field<string> {
  const min = options.minLength ?? 0;
  return {
    expected: `a string of ${min}-${options.maxLength} characters`,
    accepts: (v): v is string => {
      if (typeof v !== 'string' || v.length > 2 * options.maxLength) return false;
      if (LONE_SURROGATE.test(v)) return false;
      // A surrogate pair is one character but two UTF-16 units (lone halves were refused).
      const characters = v.length - (v.match(SURROGATE_PAIR)?.length ?? 0);
      return characters >= min && characters <= options.maxLength;
    },
  };
}

/**
 * A field whose value the schema does not judge: any JSON value passes. For
 * a value its receiver validates itself to answer with a more precise code
 * than `BAD_FRAME` (stage 6's credentials: a username that is not a string is
 * `BAD_USERNAME`). The field must still be present, and nothing else may be.
 */
export const anyField: Field<unknown> = {
  expected: 'any JSON value',
  accepts: (_value): _value is unknown => true,
};

/** A string field that must be one of `values`, e.g. the closed list of error codes. */
export function oneOfField<const T extends string>(values: readonly T[]): Field<T> {
  const allowed = new Set<string>(values);
  return {
    expected: `one of ${values.length} known values`,
    accepts: (v): v is T => typeof v === 'string' && allowed.has(v),
  };
}

/** A field holding one of the stable {@link ChatErrorCode}s. */
export const errorCodeField: Field<ChatErrorCode> = oneOfField(
  Object.keys(ERROR_CODES) as ChatErrorCode[],
);

/**
 * An integer field: a JSON number whose value is a whole number inside the
 * bounds. JSON does not tell `2`, `2.0` and `2e0` apart, and neither does this
 * check (all are 2); senders write the plain form, as `JSON.stringify` does.
 * `-0` is refused: it is no count, and `(-0).toLocaleString()` prints `-0`.
 *
 * @param options - inclusive bounds
 */
export function integerField(options: { min: number; max: number }): Field<number> {
  return {
    expected: `an integer from ${options.min} to ${options.max}`,
    accepts: (v): v is number =>
      Number.isSafeInteger(v) &&
      !Object.is(v, -0) &&
      (v as number) >= options.min &&
      (v as number) <= options.max,
  };
}

/**
 * An array field whose every item passes `item`.
 *
 * @param item - the validator for each element
 * @param options - the maximum number of items
 */
export function arrayField<T>(item: Field<T>, options: { maxItems: number }): Field<T[]> {
  return {
    expected: `an array of at most ${options.maxItems} items, each ${item.expected}`,
    accepts: (v): v is T[] =>
      Array.isArray(v) && v.length <= options.maxItems && v.every((x) => item.accepts(x)),
  };
}

/**
 * A {@link Field} for base64 text, which can also check the text while it
 * is still bytes (see {@link isBase64Bytes}).
 */
export interface Base64Field extends Field<string> {
  /** The same check as `accepts`, on the text's ASCII bytes. */
  acceptsBytes(bytes: Uint8Array): boolean;
}

/**
 * A field holding canonical base64 (e.g. a sealed box) whose decoded size is
 * inside the bounds. The value stays a string; decode it with `Buffer.from(v, 'base64')`.
 *
 * @param options - inclusive bounds on the decoded length in bytes
 */
export function base64Field(options: { minBytes: number; maxBytes: number }): Base64Field {
  const maxLength = Math.ceil(options.maxBytes / 3) * 4;
  const sizeFits = (bytes: number) => bytes >= options.minBytes && bytes <= options.maxBytes;
  return {
    expected: `base64 of ${options.minBytes}-${options.maxBytes} bytes`,
    accepts: (v): v is string =>
      typeof v === 'string' &&
      v.length <= maxLength &&
      isBase64(v) &&
      sizeFits(base64ByteLength(v)),
    acceptsBytes: (bytes) =>
      bytes.length <= maxLength && isBase64Bytes(bytes) && sizeFits(base64ByteLength(bytes)),
  };
}

/** Validators for a frame's fields, by field name (`type` is implied). */
export type FieldSpec = Record<string, Field<unknown>>;

/** One frame type: its `type` string and the exact set of its other fields. */
export interface FrameSchema<T extends string = string, S extends FieldSpec = FieldSpec> {
  /** The value of the frame's `type` field. */
  readonly type: T;
  /** Every other field the frame must have, and nothing more. */
  readonly fields: S;
}

/**
 * The TypeScript type of the frames a schema accepts, e.g.
 * `{ type: 'chat'; box: string }`.
 */
export type FrameOf<Schema> =
  Schema extends FrameSchema<infer T, infer S> ? Tagged<T> & FieldsOf<S> : never;

/**
 * The TypeScript type of an object with a spec's fields, e.g. `{ box: string }`:
 * an optional field (see {@link optionalField}) may be absent.
 */
export type FieldsOf<S extends FieldSpec> = {
  [K in keyof S as S[K] extends OptionalField<unknown> ? never : K]: FieldValue<S[K]>;
} & { [K in keyof S as S[K] extends OptionalField<unknown> ? K : never]?: FieldValue<S[K]> };

/** The value type a field validator accepts. */
export type FieldValue<F> = F extends Field<infer V> ? V : never;

/** The part every frame shares: its `type` tag. */
export interface Tagged<T extends string> {
  /** The frame's type, e.g. `"chat"`; decoders dispatch on it. */
  type: T;
}

/**
 * Declares a frame type.
 *
 * @param type - the `type` string
 * @param fields - the other fields; the frame must have exactly these
 */
export function frameSchema<const T extends string, const S extends FieldSpec>(
  type: T,
  fields: S,
): FrameSchema<T, S> {
  if ('type' in fields) throw new Error('"type" is implied; do not list it as a field');
  return { type, fields };
}

/** Options for {@link createDecoder}. */
export interface DecoderOptions {
  /** Longest accepted frame in UTF-8 bytes. Default {@link MAX_FRAME_BYTES}. */
  maxBytes?: number;
}

/**
 * Builds a strict decoder for a set of frame types (one direction of a protocol).
 * The decoder never throws: every bad input is an `{ ok: false }` result with
 * code `FRAME_TOO_LARGE` or `BAD_FRAME`.
 *
 * @param schemas - the frame types this side accepts; `type`s must differ
 * @param options - the size limit
 * @returns `decode(text)`
 */
export function createDecoder<const Schemas extends readonly FrameSchema[]>(
  schemas: Schemas,
  options: DecoderOptions = {},
): (text: string) => Decoded<FrameOf<Schemas[number]>> {
  const byType = new Map<string, FrameSchema>(schemas.map((s) => [s.type, s]));
  if (byType.size !== schemas.length) throw new Error('two schemas share a type');
  const maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
  return (text) => {
    const object = parseObject('frame', text, maxBytes);
    if (!object.ok) return object;
    const { type } = object.frame;
    if (typeof type !== 'string') return failed('frame has no string "type"');
    const schema = byType.get(type);
    if (schema === undefined) return failed(`unknown frame type ${quote(type)}`);
    const wrong = wrongField(`${schema.type} frame`, object.frame, schema.fields, 'type');
    if (wrong !== undefined) return failed(wrong);
    return { ok: true, frame: object.frame as FrameOf<Schemas[number]> };
  };
}

/**
 * Builds a strict decoder for a JSON object that is not a frame (it has no
 * `type`): what a sealed box carries inside, such as stage 6's credentials.
 * The rules are a frame's: size, JSON syntax, exactly the listed fields with
 * the right types. It never throws; bad input is `BAD_FRAME` (or
 * `FRAME_TOO_LARGE`).
 *
 * @param name - what the object is, for error messages (e.g. `'credentials'`)
 * @param fields - the fields it must have, and nothing more
 * @param options - the size limit
 * @returns `decode(text)`
 *
 * @example
 * ```ts
 * const decode = createObjectDecoder('point', { x: integerField({ min: 0, max: 9 }) });
 * decode('{"x":1}'); //=> { ok: true, frame: { x: 1 } }
 * decode('{"x":1,"y":2}').ok; //=> false (BAD_FRAME: unexpected field "y")
 * ```
 */
export function createObjectDecoder<const S extends FieldSpec>(
  name: string,
  fields: S,
  options: DecoderOptions = {},
): (text: string) => Decoded<FieldsOf<S>> {
  const maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
  return (text) => {
    const object = parseObject(name, text, maxBytes);
    if (!object.ok) return object;
    const wrong = wrongField(name, object.frame, fields);
    if (wrong !== undefined) return failed(wrong);
    return { ok: true, frame: object.frame as FieldsOf<S> };
  };
}

// What parseObject's JSON.parse gives for text that is not JSON.
const NOT_JSON = Symbol('not JSON');

// The checks every decoder starts with: text, not too large, JSON, an object.
function parseObject(
  what: string,
  text: string,
  maxBytes: number,
): Decoded<Record<string, unknown>> {
  if (typeof text !== 'string') return failed(`${what} is not text`);
  if (tooLarge(text, maxBytes)) {
    const message = `${what} longer than ${maxBytes} bytes`;
    const error = withoutStacks(() => new ChatError('FRAME_TOO_LARGE', message));
    return { ok: false, error };
  }
  // Not JSON: JSON.parse throws a SyntaxError, here made without a stack.
  const value = withoutStacks(() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return NOT_JSON;
    }
  });
  if (value === NOT_JSON) return failed(`${what} is not valid JSON`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return failed(`${what} is not a JSON object`);
  }
  return { ok: true, frame: value as Record<string, unknown> };
}

// What is wrong with `object`'s fields (the first problem found), or
// undefined if it has exactly `fields`, each valid (plus `extra`, checked by
// the caller: a frame's `type`).
function wrongField(
  what: string,
  object: Record<string, unknown>,
  fields: FieldSpec,
  extra?: string,
): string | undefined {
  for (const name of Object.keys(object)) {
    if (name !== extra && !Object.hasOwn(fields, name)) {
      return `${what} has unexpected field ${quote(name)}`;
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    if (!Object.hasOwn(object, name)) {
      if (field.optional) continue;
      return `${what} is missing "${name}"`;
    }
    if (!field.accepts(object[name])) return `${what} field "${name}" must be ${field.expected}`;
  }
  return undefined;
}

function failed(message: string): DecodedError {
  return { ok: false, error: badFrame(message) };
}

/**
 * Encodes a frame object as one line: JSON plus `\n`. `JSON.stringify` escapes
 * every line break inside strings (`\n`, `\r` become the two characters
 * `\` `n`, `\` `r`), and emits none between tokens, so the frame can never
 * split in two: unlike `encodeFrame`, this does not scan its text for one.
 *
 * @param frame - an object with a string `type`
 * @returns the bytes to write
 */
export function encodeJsonFrame(frame: { readonly type: string }): Buffer {
  return Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
}

/**
 * Encodes several frame objects into one buffer, for one write: the same
 * bytes as {@link encodeJsonFrame} of each, one allocation for all of them
 * (a relay's frames from one read, sent as one write per recipient).
 *
 * @param frames - objects with a string `type`
 * @returns the bytes to write (empty when `frames` is)
 */
export function encodeJsonFrames(frames: readonly { readonly type: string }[]): Buffer {
  let text = '';
  for (const frame of frames) text += JSON.stringify(frame) + '\n';
  return Buffer.from(text, 'utf8');
}

/** What a box's associated data binds: checked by the receiver, never sent. */
export interface AssociatedDataParts {
  /** The protocol version ({@link PROTOCOL_VERSION}). */
  v: number;
  /** The frame type the box travels in, e.g. `'chat'`. */
  type: string;
  /** The authenticated sender (stage 6); stage 5 has none it could trust. */
  sender?: string;
}

/**
 * Builds the associated data for a box: the one place that decides its bytes,
 * so sender and receiver cannot disagree. The encoding is a JSON array in a
 * fixed order, which is unambiguous (`"a,b"` and `"a","b"` differ).
 *
 * @param parts - version, frame type, and the sender when there is one
 * @returns the bytes to pass to `seal`/`open`
 *
 * @example
 * ```ts
 * associatedData({ v: 1, type: 'chat' }).toString(); //=> '["socket-chat",1,"chat",null]'
 * ```
 */
export function associatedData(parts: AssociatedDataParts): Buffer {
  return Buffer.from(
    JSON.stringify(['socket-chat', parts.v, parts.type, parts.sender ?? null]),
    'utf8',
  );
}

// Whether `text` is over `maxBytes` in UTF-8, counting the bytes only when the
// length cannot tell: a UTF-16 code unit is 1 to 3 bytes (a surrogate pair, 2
// units, is 4), so a short string is under the limit and a long one over it.
// Frames that come through the LineDecoder were already bounded in bytes, and
// a chat frame is far below the limit, so the count is almost never needed.
function tooLarge(text: string, maxBytes: number): boolean {
  if (text.length * 3 <= maxBytes) return false;
  if (text.length > maxBytes) return true;
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

function badFrame(message: string): ChatError {
  return withoutStacks(() => new ChatError('BAD_FRAME', message));
}

// Runs `make` with stack traces turned off: an error made, or thrown and
// caught, inside it has none. For the decoders' verdicts on input, which
// they return as values. Capturing the stack is most of what making an
// Error costs (V8 walks the call stack and keeps its frames), and a client
// can send thousands of bad frames in one read, each answered with its own
// error; such a stack would only name the decoder, which the code and
// message already say (and they are what a program prints when it throws
// one on). Errors about this process's own state (a file, the database)
// keep their stacks: there the stack is the clue.
function withoutStacks<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0; // read by every Error constructor: no frames captured
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

// Untrusted names go back to their sender inside an error message: keep them
// short and JSON-escaped so they cannot carry line breaks or terminal escapes.
function quote(text: string): string {
  return JSON.stringify(text.length > 32 ? text.slice(0, 32) + '…' : text);
}

// ---------------------------------------------------------------------------
// The frames stages 5 and 6 share: the chat request and the error frame, and
// the box they carry. Each stage's own frames are in its messages.ts.

/** Longest chat message a client seals, in UTF-8 bytes (the server checks the box size). */
export const MAX_TEXT_BYTES = 4096;

/** A sealed box of a chat message, as a field: base64 of nonce + ciphertext + tag. */
export const boxField = base64Field({
  minBytes: BOX_OVERHEAD,
  maxBytes: MAX_TEXT_BYTES + BOX_OVERHEAD,
});

/** Client → server: `{"type":"chat","box":"<base64>"}`, a message sealed by the client. */
export const CHAT_REQUEST = frameSchema('chat', {
  /** The sealed message: base64 of nonce | ciphertext | tag. */
  box: boxField,
});
/** Server → one client: its last frame was refused, and why (a stable code). */
export const ERROR_FRAME = frameSchema('error', {
  /** The stable error code (see `ERROR_CODES`). */
  code: errorCodeField,
  /** A human-readable explanation; never contains secrets or plaintext. */
  message: stringField({ maxLength: 500 }),
});
