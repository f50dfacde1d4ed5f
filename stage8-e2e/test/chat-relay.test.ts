// The relay shortcut (chat-relay.ts) must agree with the full decoder: it
// may only pass lines the decoder accepts, it must write exactly what
// encodeServerFrame writes for them, and the sender's name is always the
// one it is given, never one from the line.
import { relayCanonicalChat, relayPrefix } from '../src/chat-relay';
import { decodeClientFrame, encodeClientFrame, encodeServerFrame } from '../src/messages';

const box = Buffer.alloc(92, 7).toString('base64');
const sig = Buffer.alloc(64, 9).toString('base64');
const frame = { type: 'e2e-chat' as const, epoch: 1_732_000_000_000, counter: 41, box, sig };
const canonical = encodeClientFrame(frame).toString('utf8').trimEnd();
const withField = (field: string) => canonical.replace('"epoch"', `${field},"epoch"`);

const cases: [string, string][] = [
  ['canonical', canonical],
  ['counter 0 and epoch 0', JSON.stringify({ ...frame, epoch: 0, counter: 0 })],
  ['the largest counter', JSON.stringify({ ...frame, counter: 0xffff_ffff })],
  ['a counter past u32', JSON.stringify({ ...frame, counter: 2 ** 32 })],
  ['an epoch past 2^53', canonical.replace('1732000000000', '9007199254740993')],
  ['a leading zero', canonical.replace('"counter":41', '"counter":041')],
  ['a negative counter', canonical.replace('"counter":41', '"counter":-1')],
  ['a fractional counter', canonical.replace('"counter":41', '"counter":41.5')],
  ['an exponent', canonical.replace('"counter":41', '"counter":4.1e1')],
  ['spaces after commas', canonical.replace(/,/g, ', ')],
  [
    'fields in another order',
    JSON.stringify({ type: 'e2e-chat', counter: 41, epoch: frame.epoch, box, sig }),
  ],
  ['a forged from', withField('"from":"carol"')],
  ['a forged from, escaped', withField('"fr\\u006fm":"carol"')],
  ['an escape inside the box', canonical.replace(box, `\\u0042${box.slice(1)}`)],
  ['a box shorter than nonce + tag', JSON.stringify({ ...frame, box: 'AAAA' })],
  [
    'a box one byte too long',
    JSON.stringify({ ...frame, box: Buffer.alloc(4096 + 29).toString('base64') }),
  ],
  [
    'non-canonical base64 padding',
    JSON.stringify({ ...frame, box: Buffer.alloc(92).toString('base64').replace(/A=$/, 'B=') }),
  ],
  ['a 63-byte signature', JSON.stringify({ ...frame, sig: Buffer.alloc(63).toString('base64') })],
  ['a string epoch', canonical.replace('1732000000000', '"1732000000000"')],
  ['trailing text', `${canonical} `],
  ['a second frame glued on', `${canonical}${canonical}`],
  ['a duplicated field', canonical.replace('"counter":41', '"counter":41,"counter":42')],
];

test.each(cases)(
  '%s: the shortcut passes only what the decoder accepts, and relays it as the encoder would',
  (_name, line) => {
    const relay = relayCanonicalChat(line, relayPrefix('alice'));
    const decoded = decodeClientFrame(line);
    if (relay === undefined) {
      // Declined: the line is refused, or valid but not as JSON.stringify spells
      // it (then the full decoder relays it; see the next test).
      const canonicalAgain =
        decoded.ok &&
        decoded.frame.type === 'e2e-chat' &&
        encodeClientFrame({ ...frame, ...decoded.frame }).toString() === `${line}\n`;
      expect(canonicalAgain).toBe(false);
      return;
    }
    expect(decoded.ok).toBe(true);
    if (!decoded.ok || decoded.frame.type !== 'e2e-chat') throw new Error('not an e2e-chat');
    const { epoch, counter, box: b, sig: s } = decoded.frame;
    const expected = encodeServerFrame({
      type: 'e2e-chat',
      from: 'alice',
      epoch,
      counter,
      box: b,
      sig: s,
    });
    expect(relay).toBe(expected.toString('utf8'));
  },
);

test('the shortcut takes exactly the canonical lines our clients write', () => {
  const taken = cases
    .filter(([, line]) => relayCanonicalChat(line, relayPrefix('alice')) !== undefined)
    .map(([name]) => name);
  expect(taken).toEqual(['canonical', 'counter 0 and epoch 0', 'the largest counter']);
  // The lines it leaves to the decoder that are valid: relayed the slow way.
  const valid = cases.filter(([, line]) => decodeClientFrame(line).ok).map(([name]) => name);
  expect(valid).toEqual([
    'canonical',
    'counter 0 and epoch 0',
    'the largest counter',
    'an exponent',
    'spaces after commas',
    'fields in another order',
    'an escape inside the box',
    'trailing text',
    'a duplicated field',
  ]);
});

test('the sender is the name given, however it must be escaped', () => {
  const relay = relayCanonicalChat(canonical, relayPrefix('al"ice'))!;
  expect(JSON.parse(relay)).toEqual({ ...frame, from: 'al"ice' });
});
