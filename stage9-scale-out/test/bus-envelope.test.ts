// The bus's wire format: what encode produces, decode accepts, and nothing
// else; an envelope not signed with the cluster's key, or sent too long ago,
// is refused, and random bytes are refused with BAD_FRAME, never thrown past.
import fc from 'fast-check';
import { isChatError } from '../../shared/src/errors';
import { TicketKeys } from '../../shared/src/login-ticket';
import {
  decodeEnvelope,
  encodeEnvelope,
  MAX_ENVELOPE_AGE_MS,
  MAX_PUBLISH_DELAY_MS,
  type BusEnvelope,
} from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';

const keys = BusKeys.random();
// Every envelope here is sent, and received, at one fixed moment.
const NOW = 1_796_601_600_000;
const at = { now: NOW };
const encode = (envelope: BusEnvelope, with_ = keys) => encodeEnvelope(envelope, with_, NOW);
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
  const bytes = encode(room);
  expect(bytes.toString()).toMatch(
    /^chat-bus\/2 room node-a~0123abcd 42 1796601600000 alice - [A-Za-z0-9_-]{43}\n\{"type":"chat"\}\n$/,
  );
  const decoded = decodeEnvelope(bytes, keys, at);
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
  expect(decodeEnvelope(encode(direct), keys, at)).toEqual(direct);
});

test("an envelope that is not signed with the cluster's key is refused", () => {
  const other = encode(room, BusKeys.random());
  expect(() => decodeEnvelope(other, keys, at)).toThrow(/MAC does not check/);
  // One bit changed anywhere, in the header or the frame, and the MAC no longer checks.
  const bytes = encode(room);
  for (const index of [15, 30, bytes.length - 3]) {
    const changed = Buffer.from(bytes);
    changed[index]! ^= 0x01;
    expect(() => decodeEnvelope(changed, keys, at)).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  }
});

test('every key of the ticket key file checks; the first one signs', () => {
  const [older, newer] = [TicketKeys.generate().keys[0]!.key, TicketKeys.generate().keys[0]!.key];
  const before = BusKeys.fromTicketKeys(new TicketKeys([older]));
  const rotated = BusKeys.fromTicketKeys(new TicketKeys([newer, older]));
  // A node still on the old file is understood by one already rotated, not the other way round.
  expect(decodeEnvelope(encode(room, before), rotated, at)).toEqual(room);
  expect(() => decodeEnvelope(encode(room, rotated), before, at)).toThrow(/MAC/);
  // The same file on two nodes: the same key.
  const again = BusKeys.fromTicketKeys(new TicketKeys([older]));
  expect(decodeEnvelope(encode(room, before), again, at)).toEqual(room);
});

test("an envelope sent more than a minute from the receiver's clock is refused, either way", () => {
  const bytes = encode(room);
  // A recording replayed to a node that never heard its origin: the MAC
  // checks, the numbering cannot tell; the time does.
  for (const late of [0, MAX_ENVELOPE_AGE_MS]) {
    expect(decodeEnvelope(bytes, keys, { now: NOW + late })).toEqual(room);
  }
  expect(() => decodeEnvelope(bytes, keys, { now: NOW + MAX_ENVELOPE_AGE_MS + 1 })).toThrow(
    /sent 60 s ago: too old/,
  );
  expect(() => decodeEnvelope(bytes, keys, { now: NOW - 3_600_000 })).toThrow(
    /sent 3600 s in the future/,
  );
});

test('an envelope sent well before the receiver joined the bus is refused, however recent', () => {
  const bytes = encode(room);
  const now = NOW + 10_000; // ten seconds old: fresh enough
  // Sent while the receiver was joining, or just before (a resent PUBLISH): news.
  for (const joinedAt of [NOW - 1, NOW + MAX_PUBLISH_DELAY_MS]) {
    expect(decodeEnvelope(bytes, keys, { now, joinedAt })).toEqual(room);
  }
  // Earlier than that, pub/sub could not have brought it: a recording.
  expect(() =>
    decodeEnvelope(bytes, keys, { now, joinedAt: NOW + MAX_PUBLISH_DELAY_MS + 1000 }),
  ).toThrow(/sent 6 s before this node joined the bus: a recording/);
});

test.each([
  ['another version', 'chat-bus/1 room node-a~0123abcd 1 1796601600000 alice -', 'hi\n'],
  ['an unknown kind', 'chat-bus/2 shout node-a~0123abcd 1 1796601600000 alice -', 'hi\n'],
  ['a malformed origin', 'chat-bus/2 room node-a 1 1796601600000 alice -', 'hi\n'],
  ['a zero sequence', 'chat-bus/2 room node-a~0123abcd 0 1796601600000 alice -', 'hi\n'],
  ['a zero send time', 'chat-bus/2 room node-a~0123abcd 1 0 alice -', 'hi\n'],
  [
    'a sequence past 2^53',
    'chat-bus/2 room node-a~0123abcd 9999999999999999 1796601600000 alice -',
    'hi\n',
  ],
  ['a bad sender', 'chat-bus/2 room node-a~0123abcd 1 1796601600000 al:ice -', 'hi\n'],
  [
    'a room frame with a recipient',
    'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice bob',
    'hi\n',
  ],
  [
    'a directed frame to a malformed name',
    'chat-bus/2 direct node-a~0123abcd 1 1796601600000 alice b:b',
    'hi\n',
  ],
  ['an eighth field', 'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice - x', 'hi\n'],
  [
    'two lines in the frame',
    'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -',
    'hi\nthere\n',
  ],
  ['a frame without its newline', 'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -', 'hi'],
  ['an empty frame', 'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -', '\n'],
])('refuses %s with BAD_FRAME, even correctly signed', (_what, header, frame) => {
  expect(() => decodeEnvelope(signed(header, frame), keys, at)).toThrow(
    expect.objectContaining({ code: 'BAD_FRAME' }),
  );
});

test('refuses no header line, no MAC, invalid UTF-8 and frames over the limit', () => {
  expect(() => decodeEnvelope(Buffer.from('hello'), keys, at)).toThrow(/no header line/);
  const unsigned = Buffer.from('chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -\nhi\n');
  expect(() => decodeEnvelope(unsigned, keys, at)).toThrow(/MAC/);
  const header = 'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -';
  const badUtf8 = signed(header, '\xc3\x28\n');
  expect(() => decodeEnvelope(badUtf8, keys, at)).toThrow(/UTF-8/);
  const big = signed(header, 'a'.repeat(100) + '\n');
  expect(decodeEnvelope(big, keys, { ...at, maxFrameBytes: 100 }).frame.length).toBe(101);
  expect(() => decodeEnvelope(big, keys, { ...at, maxFrameBytes: 99 })).toThrow(/over the limit/);
});

test('encode refuses what decode would refuse (a programming error, not input)', () => {
  expect(() => encode({ ...room, frame: Buffer.from('two\nlines\n') })).toThrow(
    /one non-empty line/,
  );
  expect(() => encode({ ...room, from: 'not a name' })).toThrow();
});

test('any bytes: decode returns an envelope or throws BAD_FRAME, nothing else', () => {
  const header = fc.constantFrom(
    '',
    'chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -\n',
    'chat-bus/2 direct node-a~0123abcd 7 1796601600000 a b\n',
  );
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 300 }), (prefix, body) => {
      try {
        const bytes = Buffer.concat([Buffer.from(prefix), Buffer.from(body)]);
        const envelope = decodeEnvelope(bytes, keys, at);
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
        decodeEnvelope(
          signed('chat-bus/2 room node-a~0123abcd 1 1796601600000 alice -', frame),
          keys,
          at,
        );
      } catch (err) {
        expect(isChatError(err, 'BAD_FRAME')).toBe(true);
      }
    }),
  );
});
