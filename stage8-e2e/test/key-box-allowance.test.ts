import { KeyBoxAllowance, keyBoxRecipient } from '../src/key-box-allowance';
import { encodeClientFrame } from '../src/messages';

const fields = { eph: 'ZXBo', box: 'Ym94', sig: 'c2ln' };
const line = (to: string) =>
  encodeClientFrame({ type: 'sender-key', to, ...fields })
    .toString('utf8')
    .trimEnd();

test('reads the recipient of a key box as our clients write it', () => {
  expect(keyBoxRecipient(line('bob'))).toBe('bob');
});

test.each([
  [
    'a second "to", which the decoder would route to',
    line('bob').replace('"eph"', '"to":"carol","eph"'),
  ],
  [
    'another field order',
    '{"to":"bob","type":"sender-key","eph":"ZXBo","box":"Ym94","sig":"c2ln"}',
  ],
  ['an escape in the name', line('bob').replace('bob', 'b\\u006fb')],
  ['spaces', line('bob').replace(',', ', ')],
  ['an extra field', line('bob').replace('}', ',"from":"alice"}')],
  ['a room message', '{"type":"e2e-chat","epoch":1,"counter":0,"box":"Ym94","sig":"c2ln"}'],
])('any other spelling has no free recipient: %s', (_, text) => {
  expect(keyBoxRecipient(text)).toBeUndefined();
});

test('one free box per recipient until the membership changes', () => {
  const allowance = new KeyBoxAllowance();
  expect(allowance.take('bob', 7)).toBe(true);
  expect(allowance.take('carol', 7)).toBe(true);
  expect(allowance.take('bob', 7)).toBe(false);
  expect(allowance.take('bob', 8)).toBe(true);
  expect(allowance.take('carol', 8)).toBe(true);
  expect(allowance.take('carol', 8)).toBe(false);
});
