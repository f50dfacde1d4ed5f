// The stage 6 vocabulary: strict decoding both ways (never a throw), the
// credentials format, and associated data that binds sender and type.
import fc from 'fast-check';
import { generateKey, openText, sealText } from '../../shared/src/crypto';
import { isChatError } from '../../shared/src/errors';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import {
  chatAssociatedData,
  credentialsAssociatedData,
  decodeClientFrame,
  decodeServerFrame,
  encodeServerFrame,
  formatCredentials,
  listOnline,
  MAX_LISTED_USERS,
  parseCredentials,
} from '../src/messages';
import { renderServerFrame } from '../src/sealed-messages';

const box = Buffer.alloc(40, 1).toString('base64');

test('client frames: exactly the four shapes are accepted', () => {
  expect(decodeClientFrame(`{"type":"login","box":"${box}"}`).ok).toBe(true);
  expect(decodeClientFrame(`{"type":"register","box":"${box}"}`).ok).toBe(true);
  expect(decodeClientFrame(`{"type":"chat","box":"${box}"}`).ok).toBe(true);
  expect(decodeClientFrame('{"type":"who"}').ok).toBe(true);
  for (const bad of [
    '{"type":"who","extra":1}',
    `{"type":"login","box":"${box}","username":"alice"}`,
    '{"type":"login","box":{"$ne":1}}',
    '{"type":"welcome","user":"alice","count":1,"online":["alice"]}', // a server frame
    'null',
    '[]',
  ]) {
    const decoded = decodeClientFrame(bad);
    expect(decoded.ok).toBe(false);
  }
});

test('server frames: usernames in welcome, who, chat, joined and left are checked', () => {
  const welcome = '{"type":"welcome","user":"alice","count":1,"online":["alice"]}';
  expect(decodeServerFrame(welcome).ok).toBe(true);
  expect(decodeServerFrame('{"type":"welcome","user":"","count":0,"online":[]}').ok).toBe(false);
  expect(decodeServerFrame('{"type":"who","count":2,"online":["a",1]}').ok).toBe(false);
  expect(decodeServerFrame('{"type":"bye","reason":"server shutting down"}').ok).toBe(true);
});

test('welcome and who: a count, and a list of at most MAX_LISTED_USERS names', () => {
  const names = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `u${i}`));
  const who = (count: unknown, online: string) =>
    `{"type":"who","count":${count},"online":${online}}`;
  expect(decodeServerFrame(who(5000, names(MAX_LISTED_USERS))).ok).toBe(true);
  expect(decodeServerFrame(who(5000, names(MAX_LISTED_USERS + 1))).ok).toBe(false);
  expect(decodeServerFrame(who(-1, names(0))).ok).toBe(false);
  expect(decodeServerFrame(who(1.5, names(1))).ok).toBe(false);
  expect(decodeServerFrame('{"type":"who","online":["a"]}').ok).toBe(false); // no count
  expect(decodeServerFrame('{"type":"welcome","user":"a","online":["a"]}').ok).toBe(false);
});

test('listOnline: the exact count, the first names in login order, nothing else read', () => {
  const online = new Map([
    ['carol', 1],
    ['alice', 2],
    ['bob', 3],
  ]);
  expect(listOnline(online)).toEqual({ count: 3, online: ['carol', 'alice', 'bob'] });
  expect(listOnline(new Map())).toEqual({ count: 0, online: [] });

  // With 10,000 online it reads 50 names, not 10,000: a welcome costs the same in any room.
  let read = 0;
  class CountingMap extends Map<string, number> {
    override *keys(): MapIterator<string> {
      for (const key of super.keys()) {
        read++;
        yield key;
      }
    }
  }
  const crowd = new CountingMap(Array.from({ length: 10_000 }, (_, i) => [`u${i}`, i]));
  const listed = listOnline(crowd);
  expect(listed.count).toBe(10_000);
  expect(listed.online).toEqual(Array.from({ length: MAX_LISTED_USERS }, (_, i) => `u${i}`));
  expect(read).toBe(MAX_LISTED_USERS);
});

test('a welcome with 10,000 users online (longest names) fits in one frame and decodes', () => {
  // Usernames are at most 32 characters from A-Z a-z 0-9 _ . - (no JSON escapes).
  const online = new Map<string, null>();
  for (let i = 0; i < 10_000; i++) online.set(String(i).padStart(32, 'x'), null);
  const user = 'z'.repeat(32);
  const frame = encodeServerFrame({ type: 'welcome', user, ...listOnline(online) });
  expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  // All 10,000 names would not have fit: that is the bug this bound fixes.
  expect(JSON.stringify([...online.keys()]).length).toBeGreaterThan(MAX_FRAME_BYTES);
  const decoded = decodeServerFrame(frame.toString('utf8').trimEnd());
  expect(decoded.ok && decoded.frame).toMatchObject({ type: 'welcome', user, count: 10_000 });
  expect(decoded.ok && decoded.frame.type === 'welcome' && decoded.frame.online).toHaveLength(
    MAX_LISTED_USERS,
  );
  const who = encodeServerFrame({ type: 'who', ...listOnline(online) });
  expect(who.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
});

test('decoders never throw, whatever arrives (property)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
      decodeClientFrame(text);
      decodeServerFrame(text);
    }),
  );
});

test('credentials: format and parse round-trip; anything else is BAD_FRAME', () => {
  const text = formatCredentials('alice', 'pw "with" quotes', 'c2FsdA==');
  expect(parseCredentials(text)).toEqual({
    username: 'alice',
    password: 'pw "with" quotes',
    challenge: 'c2FsdA==',
  });
  // Values are not judged here (the handshake validates them), only the shape.
  expect(parseCredentials('{"username":{},"password":1,"challenge":null}').username).toEqual({});
  for (const bad of [
    '',
    'nope',
    '[]',
    '{"username":"a","password":"b"}',
    '{"username":"a","password":"b","challenge":"c","x":1}',
  ]) {
    let error: unknown;
    try {
      parseCredentials(bad);
    } catch (err) {
      error = err;
    }
    expect(isChatError(error, 'BAD_FRAME')).toBe(true);
  }
});

test('associated data binds the sender and the type', () => {
  const key = generateKey();
  const sealed = sealText(key, 'hi', chatAssociatedData('alice'));
  expect(openText(key, sealed, chatAssociatedData('alice'))).toBe('hi');
  expect(() => openText(key, sealed, chatAssociatedData('mallory'))).toThrow(
    /authentication failed/,
  );
  expect(() => openText(key, sealed, credentialsAssociatedData('login'))).toThrow();
  expect(chatAssociatedData('alice').equals(chatAssociatedData('alice'))).toBe(true);
});

test('rendering who is online: the count, the names, and how many more were not listed', () => {
  const key = generateKey();
  const show = (count: number, online: string[]) =>
    renderServerFrame(key, { type: 'who', count, online });
  expect(show(2, ['alice', 'bob'])).toEqual({ kind: 'notice', text: '* 2 online: alice, bob' });
  expect(show(2345, ['alice', 'bob']).text).toBe('* 2,345 online: alice, bob, … and 2,343 more');
  expect(show(0, []).text).toBe('* 0 online');
  expect(
    renderServerFrame(key, { type: 'welcome', user: 'ann', count: 1, online: ['ann'] }),
  ).toEqual({ kind: 'notice', text: '* logged in as ann; 1 online: ann' });
  // Names from the server are sanitized like everything else it sends.
  expect(show(1, ['a\x1bb']).text).toBe('* 1 online: a\\x1bb');
});

test('rendering: a forged sender becomes a warning; control characters are made visible', () => {
  const key = generateKey();
  const forged = sealText(key, 'secret plan', chatAssociatedData('alice'));
  const shown = renderServerFrame(key, { type: 'chat', from: 'mallory', box: forged });
  expect(shown.kind).toBe('warning');
  expect(shown.text).not.toContain('secret plan');
  const real = sealText(key, 'hi\x1b[31m', chatAssociatedData('bob'));
  expect(renderServerFrame(key, { type: 'chat', from: 'bob', box: real })).toEqual({
    kind: 'chat',
    text: 'bob: hi\\x1b[31m',
  });
});
