// The relay's short cut must never accept what the general path refuses, and
// must write exactly the bytes the general path would.
import fc from 'fast-check';
import { canonicalChatBox, ChatRelayWriter } from '../src/chat-relay';
import { BOX_OVERHEAD } from '../src/crypto';
import { decodeLine } from '../src/framing';
import { CHAT_REQUEST, createDecoder, encodeJsonFrame, MAX_TEXT_BYTES } from '../src/protocol';

const decodeClientFrame = createDecoder([CHAT_REQUEST]);
const line = (text: string) => Buffer.from(text, 'utf8');
// Bytes 0, 1, 2, …: the base64 starts with 'A' (0), which the cases below replace.
const boxOf = (bytes: number) =>
  Buffer.from(Array.from({ length: bytes }, (_, i) => i % 256)).toString('base64');

// The general path's verdict on a line: the box it would relay, or undefined.
function generalBox(bytes: Uint8Array): string | undefined {
  const text = decodeLine(bytes);
  if (!text.ok) return undefined;
  const decoded = decodeClientFrame(text.text);
  return decoded.ok && decoded.frame.type === 'chat' ? decoded.frame.box : undefined;
}

test('the canonical request gives its box, as a view of the line', () => {
  const box = boxOf(BOX_OVERHEAD + 5);
  const bytes = line(JSON.stringify({ type: 'chat', box }));
  const found = canonicalChatBox(bytes);
  expect(Buffer.from(found!).toString('latin1')).toBe(box);
  expect(found!.buffer).toBe(bytes.buffer);
});

test.each([
  ['other spacing', `{"type": "chat","box":"${boxOf(40)}"}`],
  ['another field order', `{"box":"${boxOf(40)}","type":"chat"}`],
  ['an escaped character', `{"type":"chat","box":"${boxOf(40).replace('A', '\\u0041')}"}`],
])('a valid request with %s takes the general path, which accepts it', (_, text) => {
  expect(canonicalChatBox(line(text))).toBeUndefined();
  expect(generalBox(line(text))).toBeDefined();
});

test.each([
  ['non-canonical padding bits', `{"type":"chat","box":"${boxOf(40).slice(0, -3)}B=="}`],
  ['a box shorter than nonce + tag', `{"type":"chat","box":"${boxOf(BOX_OVERHEAD - 1)}"}`],
  [
    'a box over the text limit',
    `{"type":"chat","box":"${boxOf(MAX_TEXT_BYTES + BOX_OVERHEAD + 1)}"}`,
  ],
  ['a character outside base64', `{"type":"chat","box":"${boxOf(40).replace('A', '"')}"}`],
  ['an extra field', `{"type":"chat","box":"${boxOf(40)}","from":"x"}`],
  ['a missing end', `{"type":"chat","box":"${boxOf(40)}"`],
  ['nothing after the head', '{"type":"chat","box":"'],
])('a request with %s is not taken', (_, text) => {
  expect(canonicalChatBox(line(text))).toBeUndefined();
});

test('a byte that is not UTF-8 inside the box is not taken (latin1 keeps it one character)', () => {
  const bytes = Buffer.concat([
    line(`{"type":"chat","box":"${boxOf(39)}`),
    Buffer.from([0xc3]),
    line('="}'),
  ]);
  expect(canonicalChatBox(bytes)).toBeUndefined();
});

test('whatever the bytes, the short cut accepts only what the general path accepts, with the same box', () => {
  const head = line('{"type":"chat","box":"');
  const tail = line('"}');
  const base64Like = fc
    .uint8Array({ minLength: 0, maxLength: 200 })
    .map((bytes) => line(Buffer.from(bytes).toString('base64')));
  const middle = fc.oneof(
    base64Like,
    base64Like.chain((b) =>
      fc.tuple(fc.nat(b.length), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
        const copy = Buffer.from(b);
        if (at < copy.length) copy[at] = byte;
        return copy;
      }),
    ),
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(middle, fc.boolean(), (box, framed) => {
      const bytes = framed ? Buffer.concat([head, box, tail]) : box;
      const fast = canonicalChatBox(bytes);
      if (fast === undefined) return;
      expect(Buffer.from(fast).toString('latin1')).toBe(generalBox(bytes));
    }),
    { numRuns: 2000 },
  );
});

test.each(['127.0.0.1:50312', '[::1]:9', 'ålice', 'quote"and\\slash', 'line\u2028sep'])(
  'the relayed bytes are those of encoding { type, from, box } (from %j)',
  (from) => {
    const box = boxOf(50);
    const parts: Uint8Array[] = [];
    const writer = new ChatRelayWriter(from);
    writer.append(parts, line(box));
    writer.append(parts, line(box));
    const relayed: { type: string; from: string; box: string } = { type: 'chat', from, box };
    const frame = encodeJsonFrame(relayed);
    expect(Buffer.concat(parts)).toEqual(Buffer.concat([frame, frame]));
  },
);
