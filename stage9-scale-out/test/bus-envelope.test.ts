// The bus's wire format: what encode produces, decode accepts, and nothing
// else; an envelope not signed with the cluster's key is refused, and random
// bytes are refused with BAD_FRAME, never thrown past.
import fc from 'fast-check';
import { isChatError } from '../../shared/src/errors';
import { TicketKeys } from '../../shared/src/login-ticket';
import { decodeEnvelope, encodeEnvelope, type BusEnvelope } from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';

const keys = BusKeys.random();
const origin = 'node-a~0123abcd';
const room: BusEnvelope = {
  kind: 'room',
  origin,
  seq: 42,
  from: 'alice',
  frame: Buffer.from('{"type":"chat"}\n'),
};

// A header as another node (or an outsider) might write it, signed with `keys`.
const signed = (header: string, frame: string) =>
  Buffer.from(`${header} ${keys.sign(header, Buffer.from(frame, 'latin1'))}\n${frame}`, 'latin1');

test('a room envelope is a signed header line and the frame, byte for byte', () => {
  const bytes = encodeEnvelope(room, keys);
  expect(bytes.toString()).toMatch(
    /^chat-bus\/2 room node-a~0123abcd 42 alice - [A-Za-z0-9_-]{43}\n\{"type":"chat"\}\n$/,
  );
  const decoded = decodeEnvelope(bytes, keys);
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
  expect(decodeEnvelope(encodeEnvelope(direct, keys), keys)).toEqual(direct);
});

test("an envelope that is not signed with the cluster's key is refused", () => {
  const other = encodeEnvelope(room, BusKeys.random());
  expect(() => decodeEnvelope(other, keys)).toThrow(/MAC does not check/);
  // One bit changed anywhere, in the header or the frame, and the MAC no longer checks.
  const bytes = encodeEnvelope(room, keys);
  for (const at of [15, 30, bytes.length - 3]) {
    const changed = Buffer.from(bytes);
    changed[at]! ^= 0x01;
    expect(() => decodeEnvelope(changed, keys)).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  }
});

test('every key of the ticket key file checks; the first one signs', () => {
  const [older, newer] = [TicketKeys.generate().keys[0]!.key, TicketKeys.generate().keys[0]!.key];
  const before = BusKeys.fromTicketKeys(new TicketKeys([older]));
  const rotated = BusKeys.fromTicketKeys(new TicketKeys([newer, older]));
  // A node still on the old file is understood by one already rotated, not the other way round.
  expect(decodeEnvelope(encodeEnvelope(room, before), rotated)).toEqual(room);
  expect(() => decodeEnvelope(encodeEnvelope(room, rotated), before)).toThrow(/MAC/);
  // The same file on two nodes: the same key.
  const again = BusKeys.fromTicketKeys(new TicketKeys([older]));
  expect(decodeEnvelope(encodeEnvelope(room, before), again)).toEqual(room);
});

test.each([
  ['another version', 'chat-bus/1 room node-a~0123abcd 1 alice -', 'hi\n'],
  ['an unknown kind', 'chat-bus/2 shout node-a~0123abcd 1 alice -', 'hi\n'],
  ['a malformed origin', 'chat-bus/2 room node-a 1 alice -', 'hi\n'],
  ['a zero sequence', 'chat-bus/2 room node-a~0123abcd 0 alice -', 'hi\n'],
  ['a sequence past 2^53', 'chat-bus/2 room node-a~0123abcd 9999999999999999 alice -', 'hi\n'],
  ['a bad sender', 'chat-bus/2 room node-a~0123abcd 1 al:ice -', 'hi\n'],
  ['a room frame with a recipient', 'chat-bus/2 room node-a~0123abcd 1 alice bob', 'hi\n'],
  ['a directed frame to a malformed name', 'chat-bus/2 direct node-a~0123abcd 1 alice b:b', 'hi\n'],
  ['a seventh field', 'chat-bus/2 room node-a~0123abcd 1 alice - x', 'hi\n'],
  ['two lines in the frame', 'chat-bus/2 room node-a~0123abcd 1 alice -', 'hi\nthere\n'],
  ['a frame without its newline', 'chat-bus/2 room node-a~0123abcd 1 alice -', 'hi'],
  ['an empty frame', 'chat-bus/2 room node-a~0123abcd 1 alice -', '\n'],
])('refuses %s with BAD_FRAME, even correctly signed', (_what, header, frame) => {
  expect(() => decodeEnvelope(signed(header, frame), keys)).toThrow(
    expect.objectContaining({ code: 'BAD_FRAME' }),
  );
});

test('refuses no header line, no MAC, invalid UTF-8 and frames over the limit', () => {
  expect(() => decodeEnvelope(Buffer.from('hello'), keys)).toThrow(/no header line/);
  const unsigned = Buffer.from('chat-bus/2 room node-a~0123abcd 1 alice -\nhi\n');
  expect(() => decodeEnvelope(unsigned, keys)).toThrow(/MAC/);
  const header = 'chat-bus/2 room node-a~0123abcd 1 alice -';
  const badUtf8 = signed(header, '\xc3\x28\n');
  expect(() => decodeEnvelope(badUtf8, keys)).toThrow(/UTF-8/);
  const big = signed(header, 'a'.repeat(100) + '\n');
  expect(decodeEnvelope(big, keys, 100).frame.length).toBe(101);
  expect(() => decodeEnvelope(big, keys, 99)).toThrow(/over the limit/);
});

test('encode refuses what decode would refuse (a programming error, not input)', () => {
  expect(() => encodeEnvelope({ ...room, frame: Buffer.from('two\nlines\n') }, keys)).toThrow(
    /one non-empty line/,
  );
  expect(() => encodeEnvelope({ ...room, from: 'not a name' }, keys)).toThrow();
});

test('any bytes: decode returns an envelope or throws BAD_FRAME, nothing else', () => {
  const header = fc.constantFrom(
    '',
    'chat-bus/2 room node-a~0123abcd 1 alice -\n',
    'chat-bus/2 direct node-a~0123abcd 7 a b\n',
  );
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 300 }), (prefix, body) => {
      try {
        const bytes = Buffer.concat([Buffer.from(prefix), Buffer.from(body)]);
        const envelope = decodeEnvelope(bytes, keys);
        expect(envelope.frame.at(-1)).toBe(0x0a);
      } catch (err) {
        expect(isChatError(err, 'BAD_FRAME')).toBe(true);
      }
    }),
  );
  // And signed: past the MAC, every field check still holds.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
      const frame = Buffer.from(body).toString('latin1');
      try {
        decodeEnvelope(signed('chat-bus/2 room node-a~0123abcd 1 alice -', frame), keys);
      } catch (err) {
        expect(isChatError(err, 'BAD_FRAME')).toBe(true);
      }
    }),
  );
});
