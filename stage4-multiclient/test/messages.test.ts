// The relay sends a chat line as bytes it never decoded. These tests hold it
// to what a relay that decoded every line would do: refuse the same lines,
// and write exactly the same bytes for the rest.
import fc from 'fast-check';
import { decodeLine, encodeFrame } from '../../shared/src/framing';
import { chatLines, chatPrefix, chatTextError } from '../src/messages';

// A label as the server assigns them: IPv4 or bracketed IPv6, and a port.
const label = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65_535 })).map(([ip, port]) => `${ip}:${port}`),
  fc.ipV6().map((ip) => `[${ip}]:5050`),
);
const chatText = fc.string({ unit: 'grapheme' }).filter((t) => !/[\r\n]/.test(t));

test('chatLines writes the bytes encodeFrame writes for "LABEL: TEXT", one line each', () => {
  fc.assert(
    fc.property(label, fc.array(chatText, { maxLength: 8 }), (sender, texts) => {
      const bytes = chatLines(
        chatPrefix(sender),
        texts.map((t) => Buffer.from(t, 'utf8')),
      );
      expect(bytes).toEqual(Buffer.concat(texts.map((t) => encodeFrame(`${sender}: ${t}`))));
    }),
  );
});

test('a line that starts with a byte-order mark keeps it', () => {
  const text = Buffer.from('\uFEFFhi', 'utf8');
  expect(chatLines(chatPrefix('1.2.3.4:5'), [text]).toString('utf8')).toBe('1.2.3.4:5: \uFEFFhi\n');
});

test('chatTextError refuses exactly what decoding and checking the string would refuse', () => {
  // Bytes with some \r in them, and no \n (the decoder has split the lines).
  const bytes = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(0x0d)), { maxLength: 40 })
    .map((values) => Uint8Array.from(values.filter((b) => b !== 0x0a)));
  fc.assert(
    fc.property(bytes, (line) => {
      const decoded = decodeLine(line);
      const expected = !decoded.ok
        ? 'BAD_UTF8'
        : decoded.text.includes('\r')
          ? 'BAD_FRAME'
          : undefined;
      expect(chatTextError(line)?.code).toBe(expected);
    }),
  );
});

test.each([
  ['not UTF-8', Buffer.from([0x68, 0xff]), 'BAD_UTF8'],
  ['a carriage return inside', Buffer.from('fine\rfake: line'), 'BAD_FRAME'],
  ['text in any script', Buffer.from('héllo, 世界 👋'), undefined],
])('chatTextError: %s', (_, line, code) => {
  expect(chatTextError(line)?.code).toBe(code);
});
