// The stage 9 vocabulary under damage: its decoders (a node's, towards its
// clients), seeded with the stage 7 examples in docs/protocol.md, never throw and never accept a frame with a
// field too many or too few (shared/test/frame-properties.ts says why).
import fc from 'fast-check';
import {
  acceptedBy,
  damagedFrame,
  exactFieldFailures,
  expectStrictAnswer,
  protocolExamples,
  uncoveredTypes,
} from '../../shared/test/frame-properties';
import {
  CLIENT_SCHEMAS,
  decodeClientFrame,
  decodeServerFrame,
  SERVER_SCHEMAS,
} from '../src/messages';

// A stage 9 node speaks stage 7's protocol to its clients (the same ALPN
// name; stage 9's client is stage 7's), so stage 7's examples are its own.
const examples = protocolExamples('## Stage 7:', 'Frames a stage 7 decoder refuses');
const sides = [
  {
    side: 'client → server',
    decode: decodeClientFrame,
    schemas: CLIENT_SCHEMAS,
    examples: examples.fromClient,
  },
  {
    side: 'server → client',
    decode: decodeServerFrame,
    schemas: SERVER_SCHEMAS,
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
