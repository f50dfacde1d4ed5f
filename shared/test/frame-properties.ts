/**
 * Property tests for a stage's frame decoders, seeded with the examples in
 * docs/protocol.md.
 *
 * Random JSON almost never looks like a frame, so it tests little more than
 * the parser. Examples that decode, damaged a little (a field dropped, added,
 * replaced with another field's value or with junk, the type swapped), reach
 * every field's validator with the values that confuse validators most:
 * right name, wrong kind; right kind, wrong size. Whatever comes in, a
 * decoder must answer: never a throw (in a server, an exception from a
 * decoder is a crash one line away), a refusal only as `BAD_FRAME` or
 * `FRAME_TOO_LARGE`, and an accepted frame exactly as it was sent.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Decoded, FrameSchema } from '../src/protocol';
import { REPO_ROOT } from './helpers';

/** A decoded JSON frame object. */
export type FrameObject = Record<string, unknown>;

/** A stage's example frames, by direction. */
export interface ProtocolExamples {
  /** The `C → S` lines: what a client sends. */
  fromClient: FrameObject[];
  /** The `S → C` and `S → B` lines: what a server sends. */
  fromServer: FrameObject[];
}

/**
 * The example frames of one part of docs/protocol.md: the text from the
 * heading `from` up to the first `until` after it (or the page's end).
 */
export function protocolExamples(from: string, until?: string): ProtocolExamples {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
  const start = doc.indexOf(from);
  if (start === -1) throw new Error(`docs/protocol.md has no "${from}"`);
  let part = doc.slice(start);
  if (until !== undefined && part.includes(until)) part = part.slice(0, part.indexOf(until));
  const lines = (arrow: string) =>
    [...part.matchAll(new RegExp(`^${arrow} {2}(\\{.*\\})$`, 'gm'))].map(
      (m) => JSON.parse(m[1]!) as FrameObject,
    );
  return { fromClient: lines('C → S'), fromServer: lines('S → [CB]') };
}

/**
 * The valid lines of one stage in docs/wire-vectors.json (`frames.stage8`, …):
 * generated from the real encoders, with a line of every frame type.
 */
export function wireVectorExamples(stage: string): ProtocolExamples {
  const file = path.join(REPO_ROOT, 'docs', 'wire-vectors.json');
  const vectors = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    frames: Record<string, Record<string, { line: string; expected: { ok: boolean } }[]>>;
  };
  const frames = vectors.frames[stage];
  if (frames === undefined) throw new Error(`docs/wire-vectors.json has no frames.${stage}`);
  const valid = (direction: string) =>
    (frames[direction] ?? [])
      .filter((v) => v.expected.ok)
      .map((v) => JSON.parse(v.line) as FrameObject);
  return { fromClient: valid('clientToServer'), fromServer: valid('serverToClient') };
}

/** Values that confuse validators: wrong kinds, edge numbers, prototype names, a huge string. */
const JUNK = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    null,
    true,
    '',
    -1,
    0.5,
    2 ** 53,
    1e308,
    {},
    [],
    '__proto__',
    'constructor',
    '=',
    'A'.repeat(20_000),
  ),
);

/** One small damage to a frame. */
type Damage =
  | { kind: 'drop'; pick: number }
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'add'; name: string; value: unknown }
  | { kind: 'retag'; pick: number };

/**
 * The JSON text of one of `seeds` with one to three damages, each value
 * either junk or a value some example holds (a key where a box belongs, a
 * name list where a count belongs), sometimes with a character added.
 */
export function damagedFrame(seeds: readonly FrameObject[]): fc.Arbitrary<string> {
  const borrowed = seeds.flatMap((seed) => Object.values(seed));
  const value = fc.oneof(
    JUNK,
    fc.constantFrom(...borrowed),
    fc.constantFrom(...borrowed).map((v) => (typeof v === 'string' ? `${v}A` : [v])),
  );
  const damage: fc.Arbitrary<Damage> = fc.oneof(
    fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value }),
    fc.record({
      kind: fc.constant('add' as const),
      name: fc.constantFrom('x', '__proto__', 'from', 'type2'),
      value,
    }),
    fc.record({ kind: fc.constant('retag' as const), pick: fc.nat() }),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(damage, { minLength: 1, maxLength: 3 }))
    .map(([seed, damages]) => {
      const frame: FrameObject = { ...seed };
      for (const d of damages) {
        const names = Object.keys(frame);
        const name =
          names.length === 0 ? 'type' : names[('pick' in d ? d.pick : 0) % names.length]!;
        if (d.kind === 'drop') delete frame[name];
        else if (d.kind === 'set') frame[name] = d.value;
        else if (d.kind === 'add') {
          // An own property even for "__proto__", which `=` would take as the prototype.
          const own = { value: d.value, enumerable: true, writable: true, configurable: true };
          Object.defineProperty(frame, d.name, own);
        } else frame.type = seeds[d.pick % seeds.length]!.type;
      }
      return JSON.stringify(frame);
    });
}

/**
 * What every answer of a strict decoder must be: a refusal with one of the two
 * frame codes, or the frame exactly as sent (nothing added, dropped or converted).
 */
export function expectStrictAnswer(decoded: Decoded<unknown>, text: string): void {
  if (decoded.ok) expect(JSON.stringify(decoded.frame)).toBe(text);
  else expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(decoded.error.code);
}

/**
 * The examples that `decode` accepts: the seeds of its damaged frames. The
 * caller checks that they cover every frame type (see {@link uncoveredTypes}),
 * so a renamed heading cannot leave a property with nothing to run on.
 */
export function acceptedBy(
  decode: (text: string) => Decoded<unknown>,
  examples: readonly FrameObject[],
): FrameObject[] {
  return examples.filter((frame) => decode(JSON.stringify(frame)).ok);
}

/**
 * Exact fields, checked without randomness: each accepted example with an
 * unknown field added is refused, and so is each with one of its schema's
 * required fields dropped. Returns the refusals that did not happen.
 */
export function exactFieldFailures(
  decode: (text: string) => Decoded<unknown>,
  schemas: readonly FrameSchema[],
  seeds: readonly FrameObject[],
): string[] {
  const failures: string[] = [];
  const refused = (frame: FrameObject) => !decode(JSON.stringify(frame)).ok;
  for (const seed of seeds) {
    if (!refused({ ...seed, extra: 1 })) failures.push(`${String(seed.type)} + "extra"`);
    const schema = schemas.find((s) => s.type === seed.type);
    for (const [name, field] of Object.entries(schema?.fields ?? {})) {
      if (field.optional || !(name in seed)) continue;
      const rest = { ...seed };
      delete rest[name];
      if (!refused(rest)) failures.push(`${String(seed.type)} - "${name}"`);
    }
  }
  return failures;
}

/** The frame types of `schemas` that no seed has: each is a validator no damage reaches. */
export function uncoveredTypes(
  schemas: readonly FrameSchema[],
  seeds: readonly FrameObject[],
): string[] {
  const covered = new Set(seeds.map((seed) => seed.type));
  return schemas.map((s) => s.type).filter((type) => !covered.has(type));
}

/** What {@link testDecoderProperties} needs of a stage's protocol module. */
export interface StageVocabulary {
  /** The server's decoder, for what clients send. */
  decodeClientFrame: (text: string) => Decoded<unknown>;
  /** The client's decoder, for what servers send. */
  decodeServerFrame: (text: string) => Decoded<unknown>;
  /** The frame types clients send. */
  CLIENT_SCHEMAS: readonly FrameSchema[];
  /** The frame types servers send. */
  SERVER_SCHEMAS: readonly FrameSchema[];
}

/**
 * Registers the properties for both directions of a stage's vocabulary: the
 * examples cover every frame type; damaged examples and random text get a
 * strict answer and never a throw; an added or a dropped field is refused.
 */
export function testDecoderProperties(messages: StageVocabulary, examples: ProtocolExamples): void {
  const sides = [
    {
      side: 'client → server',
      decode: messages.decodeClientFrame,
      schemas: messages.CLIENT_SCHEMAS,
      examples: examples.fromClient,
    },
    {
      side: 'server → client',
      decode: messages.decodeServerFrame,
      schemas: messages.SERVER_SCHEMAS,
      examples: examples.fromServer,
    },
  ];
  describe.each(sides)('$side frames', ({ decode, schemas, examples }) => {
    const seeds = acceptedBy(decode, examples);

    test('the examples cover every frame type', () => {
      expect(uncoveredTypes(schemas, seeds)).toEqual([]);
    });

    test('a damaged example is refused as BAD_FRAME or decoded exactly, never a throw (property)', () => {
      fc.assert(
        fc.property(damagedFrame(seeds), (text) => expectStrictAnswer(decode(text), text)),
        { numRuns: 3000 },
      );
    });

    test('any text or JSON: never a throw (property)', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.json()), (text) =>
          expectStrictAnswer(decode(text), text),
        ),
        { numRuns: 1000 },
      );
    });

    test('a field added, or a required one dropped, is refused', () => {
      expect(exactFieldFailures(decode, schemas, seeds)).toEqual([]);
    });
  });
}
