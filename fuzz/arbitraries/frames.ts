/**
 * Frame texts a hostile or broken peer might send: valid frames put through
 * a list of mutations (a field removed, added, retyped, made huge; the tag
 * changed; keys that pollute prototypes; duplicate keys; whitespace padding
 * to the size limit; cuts and insertions in the text), plus random JSON and
 * random strings.
 *
 * Mutations are plain data, applied by {@link applyMutations}, so fast-check
 * prints a failing case readably and shrinks it to the fewest mutations.
 */
import fc from 'fast-check';
import {
  SPEC_MAX_FRAME_BYTES,
  VOCABULARIES,
  validFrame,
  type Vocabulary,
} from '../reference/frames';

/** Keys with a special meaning somewhere in JavaScript. */
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'type ',
  'TYPE',
  'box\u0000',
  '',
];

const ALL_TYPES = [...new Set(VOCABULARIES.flatMap((v) => v.schemas.map((s) => s.type)))];

/** Values of every JSON shape, plus ones at the edge of every field rule. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  ...VOCABULARIES.flatMap((v) => v.schemas.flatMap((s) => Object.values(s.fields))).map(
    (f) => f.edges,
  ),
);

/** One change to a frame object or to its text. */
export type Mutation =
  | { op: 'remove'; index: number }
  | { op: 'add'; key: string; value: unknown }
  | { op: 'set'; index: number; value: unknown }
  | { op: 'retag'; type: unknown }
  | { op: 'huge'; index: number; length: number; unit: string }
  | { op: 'duplicate'; key: string; value: unknown; first: boolean }
  | { op: 'pad'; totalBytes: number }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('remove' as const), index: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 })),
    value: anyValue,
  }),
  fc.record({ op: fc.constant('set' as const), index: fc.nat(), value: anyValue }),
  fc.record({
    op: fc.constant('retag' as const),
    type: fc.oneof(fc.constantFrom(...ALL_TYPES, ...HOSTILE_KEYS), anyValue),
  }),
  fc.record({
    op: fc.constant('huge' as const),
    index: fc.nat(),
    length: fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 16_300, max: 16_400 })),
    unit: fc.constantFrom('A', 'é', '\uD83C\uDF0D', '\u0000', '"', '\\'),
  }),
  fc.record({
    op: fc.constant('duplicate' as const),
    key: fc.constantFrom('type', 'box', 'from', 'code', 'online', '__proto__'),
    value: anyValue,
    first: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('pad' as const),
    totalBytes: fc.integer({ min: SPEC_MAX_FRAME_BYTES - 2, max: SPEC_MAX_FRAME_BYTES + 2 }),
  }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(',', '"', '}', '{', ' ', '\u0000', '\\u0000', '\uFEFF', 'null', '\uD800'),
  }),
);

/**
 * Applies mutations in order: object mutations first change the frame, then
 * it is serialized with JSON.stringify (which keeps an own `__proto__` key),
 * and text mutations change the line.
 *
 * @param frame - a frame object (not modified)
 * @param mutations - what to do to it
 * @returns the line a peer would send
 */
export function applyMutations(
  frame: Record<string, unknown>,
  mutations: readonly Mutation[],
): string {
  // A null-prototype copy: assigning "__proto__" then makes an ordinary own key.
  const object: Record<string, unknown> = Object.assign(Object.create(null), frame);
  const keyAt = (index: number) => {
    const keys = Object.keys(object);
    return keys.length === 0 ? undefined : keys[index % keys.length];
  };
  const textOps: Mutation[] = [];
  for (const m of mutations) {
    switch (m.op) {
      case 'remove': {
        const key = keyAt(m.index);
        if (key !== undefined) delete object[key];
        break;
      }
      case 'add':
        object[m.key] = m.value;
        break;
      case 'set': {
        const key = keyAt(m.index);
        if (key !== undefined) object[key] = m.value;
        break;
      }
      case 'retag':
        object.type = m.type;
        break;
      case 'huge': {
        const key = keyAt(m.index);
        if (key !== undefined) object[key] = m.unit.repeat(m.length);
        break;
      }
      default:
        textOps.push(m);
    }
  }
  let line = JSON.stringify(object);
  for (const m of textOps) {
    switch (m.op) {
      case 'duplicate': {
        const member = `${JSON.stringify(m.key)}:${JSON.stringify(m.value) ?? 'null'}`;
        line = m.first
          ? line.replace(/^\{/, `{${member},`)
          : line.replace(/\}$/, line === '{}' ? `${member}}` : `,${member}}`);
        break;
      }
      case 'pad': {
        const missing = m.totalBytes - Buffer.byteLength(line, 'utf8');
        if (missing > 0) line = line + ' '.repeat(missing);
        break;
      }
      case 'cut':
        line = line.slice(0, m.at % (line.length + 1));
        break;
      case 'insert': {
        const at = m.at % (line.length + 1);
        line = line.slice(0, at) + m.text + line.slice(at);
        break;
      }
      default:
        break;
    }
  }
  return line;
}

/** A valid frame of `vocabulary`, mutated 0–4 times, as a line of text. */
export function mutatedFrame(vocabulary: Vocabulary): fc.Arbitrary<string> {
  return fc
    .tuple(validFrame(vocabulary), fc.array(mutation, { maxLength: 4 }))
    .map(([frame, mutations]) => applyMutations(frame, mutations));
}

/**
 * Lines for a decoder of `vocabulary`: mostly its own frames mutated, some
 * frames of the other vocabularies, random JSON and random strings.
 *
 * @param vocabulary - the side being fuzzed
 */
export function hostileLine(vocabulary: Vocabulary): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedFrame(vocabulary) },
    { weight: 2, arbitrary: fc.oneof(...VOCABULARIES.map((v) => mutatedFrame(v))) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  );
}
