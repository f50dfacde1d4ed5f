// Presence events on the wire: what a node signs, a reader accepts once;
// an event not signed with the cluster's key, malformed, too old, or heard
// before is refused with BAD_FRAME.
import fc from 'fast-check';
import { isChatError } from '../../shared/src/errors';
import { MAX_ENVELOPE_AGE_MS } from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';
import type { PresenceEvent } from '../src/presence';
import { encodePresenceEvent, PresenceEventReader } from '../src/presence-event';

const keys = BusKeys.random();
const NOW = 1_796_601_600_000;
const bob: PresenceEvent = { kind: 'leave', user: 'bob', node: 'node-b~0123abcd' };
const bytes = (text: string) => Buffer.from(text, 'latin1');
const signed = (text: string) => bytes(`${text} ${keys.sign(text, new Uint8Array(0))}`);

test('an event is one signed line, read back as it was', () => {
  const line = encodePresenceEvent(bob, keys, NOW);
  expect(line).toMatch(
    /^chat-presence\/2 leave bob node-b~0123abcd 1796601600000 [\w-]{11} [\w-]{43}$/,
  );
  expect(new PresenceEventReader(keys).read(bytes(line), NOW)).toEqual(bob);
});

test('the same event signed twice in one millisecond is two events, each heard once', () => {
  const reader = new PresenceEventReader(keys);
  const [first, second] = [1, 2].map(() => bytes(encodePresenceEvent(bob, keys, NOW)));
  expect(first).not.toEqual(second); // the nonce
  expect(reader.read(first!, NOW)).toEqual(bob);
  expect(reader.read(second!, NOW)).toEqual(bob);
  expect(() => reader.read(second!, NOW)).toThrow(/a repeat/);
});

test("an event not signed with the cluster's key, or changed, is refused", () => {
  const reader = new PresenceEventReader(keys);
  const other = encodePresenceEvent(bob, BusKeys.random(), NOW);
  expect(() => reader.read(bytes(other), NOW)).toThrow(/MAC does not check/);
  const changed = encodePresenceEvent(bob, keys, NOW).replace(' leave ', ' join ');
  expect(() => reader.read(bytes(changed), NOW)).toThrow(/MAC does not check/);
  // The unsigned version-1 event anyone could publish.
  expect(() => reader.read(bytes('chat-presence/1 leave bob node-b~0123abcd'), NOW)).toThrow(
    /unknown version "chat-presence\/1"/,
  );
});

test('an event heard once is refused when it comes again, until it is too old anyway', () => {
  const reader = new PresenceEventReader(keys);
  const line = bytes(encodePresenceEvent(bob, keys, NOW));
  reader.read(line, NOW);
  expect(() => reader.read(line, NOW + MAX_ENVELOPE_AGE_MS)).toThrow(/a repeat/);
  expect(() => reader.read(line, NOW + MAX_ENVELOPE_AGE_MS + 1)).toThrow(/too old/);
  // The same user leaving again a moment later is a new event.
  expect(reader.read(bytes(encodePresenceEvent(bob, keys, NOW + 1)), NOW + 1)).toEqual(bob);
});

test('an event from more than a minute ago, or ahead, is refused', () => {
  const reader = new PresenceEventReader(keys);
  const old = bytes(encodePresenceEvent(bob, keys, NOW - MAX_ENVELOPE_AGE_MS - 1000));
  expect(() => reader.read(old, NOW)).toThrow(/61 s ago: too old/);
  const ahead = bytes(encodePresenceEvent(bob, keys, NOW + MAX_ENVELOPE_AGE_MS + 1000));
  expect(() => reader.read(ahead, NOW)).toThrow(/61 s in the future/);
});

test('an event sent well before the reader joined the bus is refused, however recent', () => {
  const line = bytes(encodePresenceEvent(bob, keys, NOW));
  expect(new PresenceEventReader(keys).read(line, NOW + 10_000, NOW + 5_000)).toEqual(bob);
  expect(() => new PresenceEventReader(keys).read(line, NOW + 10_000, NOW + 6_000)).toThrow(
    /sent 6 s before this node joined the bus: a recording/,
  );
});

test('a signed event with a malformed field is refused', () => {
  const reader = new PresenceEventReader(keys);
  for (const text of [
    `chat-presence/2 arrive bob node-b~0123abcd ${NOW} AAAAAAAAAAA`,
    `chat-presence/2 join bob! node-b~0123abcd ${NOW} AAAAAAAAAAA`,
    `chat-presence/2 join bob node-b ${NOW} AAAAAAAAAAA`,
    `chat-presence/2 join bob node-b~0123abcd 0${NOW} AAAAAAAAAAA`,
    `chat-presence/2 join bob node-b~0123abcd ${NOW} AAAA`,
    `chat-presence/2 join bob node-b~0123abcd ${NOW}`,
    `chat-presence/2 join bob node-b~0123abcd ${NOW} AAAAAAAAAAA extra`,
  ]) {
    expect(() => reader.read(signed(text), NOW)).toThrow(/not a well-formed event/);
  }
  expect(() => reader.read(Buffer.alloc(257, 0x61), NOW)).toThrow(/257 bytes: too long/);
});

test('the reader forgets events once they are too old to pass anyway', () => {
  const reader = new PresenceEventReader(keys);
  for (let i = 0; i < 100; i++) {
    reader.read(bytes(encodePresenceEvent(bob, keys, NOW + i * 1000)), NOW + i * 1000);
  }
  // Those of the last minute, both ends included: the 61 from 39 s to 99 s.
  expect(reader.remembered).toBe(61);
});

test('random bytes are refused with BAD_FRAME, never thrown past', () => {
  const reader = new PresenceEventReader(keys);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
      try {
        reader.read(Buffer.from(random), NOW);
        return false;
      } catch (err) {
        return isChatError(err) && err.code === 'BAD_FRAME';
      }
    }),
  );
});
