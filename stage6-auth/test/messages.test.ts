// The stage 6 vocabulary: strict decoding both ways (never a throw), the
// credentials format, and associated data that binds sender and type.
import fc from 'fast-check';
import { generateKey, openText, sealText } from '../../shared/src/crypto';
import { isChatError } from '../../shared/src/errors';
import {
  chatAssociatedData,
  credentialsAssociatedData,
  decodeClientFrame,
  decodeServerFrame,
  formatCredentials,
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
    '{"type":"welcome","user":"alice","online":[]}', // a server frame
    'null',
    '[]',
  ]) {
    const decoded = decodeClientFrame(bad);
    expect(decoded.ok).toBe(false);
  }
});

test('server frames: usernames in welcome, who, chat, joined and left are checked', () => {
  expect(decodeServerFrame('{"type":"welcome","user":"alice","online":["alice"]}').ok).toBe(true);
  expect(decodeServerFrame('{"type":"welcome","user":"","online":[]}').ok).toBe(false);
  expect(decodeServerFrame('{"type":"who","online":["a",1]}').ok).toBe(false);
  expect(decodeServerFrame('{"type":"bye","reason":"server shutting down"}').ok).toBe(true);
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
