// The bus's wire format: what encode produces, decode accepts, and nothing
// else; random bytes are refused with BAD_FRAME, never thrown past.
import fc from 'fast-check';
import { isChatError } from '../../shared/src/errors';
import { decodeEnvelope, encodeEnvelope, type BusEnvelope } from '../src/bus-envelope';

const origin = 'node-a~0123abcd';
const room: BusEnvelope = {
  kind: 'room',
  origin,
  seq: 42,
  from: 'alice',
  frame: Buffer.from('{"type":"chat"}\n'),
};

test('a room envelope is a header line and the frame, byte for byte', () => {
  const bytes = encodeEnvelope(room);
  expect(bytes.toString()).toBe('chat-bus/1 room node-a~0123abcd 42 alice -\n{"type":"chat"}\n');
  const decoded = decodeEnvelope(bytes);
  expect(decoded).toEqual(room);
  // The frame is a view of the received bytes: nothing is copied or re-encoded.
  expect(decoded.frame.buffer).toBe(bytes.buffer);
});

test('a directed envelope names its recipient', () => {
  const direct: BusEnvelope = {
    kind: 'direct',
    origin,
    seq: 1,
    from: 'alice',
    to: 'bob',
    frame: Buffer.from('box ✓\n'),
  };
  expect(decodeEnvelope(encodeEnvelope(direct))).toEqual(direct);
});

test.each([
  ['another version', 'chat-bus/2 room node-a~0123abcd 1 alice -\nhi\n'],
  ['an unknown kind', 'chat-bus/1 shout node-a~0123abcd 1 alice -\nhi\n'],
  ['a malformed origin', 'chat-bus/1 room node-a 1 alice -\nhi\n'],
  ['a zero sequence', 'chat-bus/1 room node-a~0123abcd 0 alice -\nhi\n'],
  ['a sequence past 2^53', 'chat-bus/1 room node-a~0123abcd 9999999999999999 alice -\nhi\n'],
  ['a bad sender', 'chat-bus/1 room node-a~0123abcd 1 al:ice -\nhi\n'],
  ['a room frame with a recipient', 'chat-bus/1 room node-a~0123abcd 1 alice bob\nhi\n'],
  ['a directed frame to a malformed name', 'chat-bus/1 direct node-a~0123abcd 1 alice b:b\nhi\n'],
  ['a seventh field', 'chat-bus/1 room node-a~0123abcd 1 alice - x\nhi\n'],
  ['two lines in the frame', 'chat-bus/1 room node-a~0123abcd 1 alice -\nhi\nthere\n'],
  ['a frame without its newline', 'chat-bus/1 room node-a~0123abcd 1 alice -\nhi'],
  ['an empty frame', 'chat-bus/1 room node-a~0123abcd 1 alice -\n\n'],
  ['no header line', 'hello'],
])('refuses %s with BAD_FRAME', (_what, text) => {
  expect(() => decodeEnvelope(Buffer.from(text))).toThrow(
    expect.objectContaining({ code: 'BAD_FRAME' }),
  );
});

test('refuses invalid UTF-8 and frames over the limit', () => {
  const header = Buffer.from('chat-bus/1 room node-a~0123abcd 1 alice -\n');
  const badUtf8 = Buffer.concat([header, Buffer.from([0xc3, 0x28, 0x0a])]);
  expect(() => decodeEnvelope(badUtf8)).toThrow(/UTF-8/);
  const big = Buffer.concat([header, Buffer.alloc(100, 'a'), Buffer.from('\n')]);
  expect(decodeEnvelope(big, 100).frame.length).toBe(101);
  expect(() => decodeEnvelope(big, 99)).toThrow(/over the limit/);
});

test('encode refuses what decode would refuse (a programming error, not input)', () => {
  expect(() => encodeEnvelope({ ...room, frame: Buffer.from('two\nlines\n') })).toThrow(
    /one non-empty line/,
  );
  expect(() => encodeEnvelope({ ...room, from: 'not a name' })).toThrow();
});

test('any bytes: decode returns an envelope or throws BAD_FRAME, nothing else', () => {
  const header = fc.constantFrom(
    '',
    'chat-bus/1 room node-a~0123abcd 1 alice -\n',
    'chat-bus/1 direct node-a~0123abcd 7 a b\n',
  );
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 300 }), (prefix, body) => {
      try {
        const envelope = decodeEnvelope(Buffer.concat([Buffer.from(prefix), Buffer.from(body)]));
        expect(envelope.frame.at(-1)).toBe(0x0a);
      } catch (err) {
        expect(isChatError(err, 'BAD_FRAME')).toBe(true);
      }
    }),
  );
});
