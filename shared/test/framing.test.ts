import fc from 'fast-check';
import { ChatError } from '../src/errors';
import {
  decodeLine,
  encodeFrame,
  encodeFrames,
  LineDecoder,
  utf8Error,
  type DecodedFrame,
} from '../src/framing';

const texts = (frames: DecodedFrame[]) => frames.map((f) => (f.ok ? f.text : `!${f.error.code}`));

function feed(decoder: LineDecoder, chunks: Uint8Array[]): DecodedFrame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, in range). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

describe('LineDecoder', () => {
  test('a whole frame in one read', () => {
    expect(texts(new LineDecoder().push(Buffer.from('hello\n')))).toEqual(['hello']);
  });

  test('a frame split across reads is held until its newline arrives', () => {
    const d = new LineDecoder();
    expect(d.push(Buffer.from('hel'))).toEqual([]);
    expect(d.bufferedBytes).toBe(3);
    expect(texts(d.push(Buffer.from('lo\n')))).toEqual(['hello']);
    expect(d.bufferedBytes).toBe(0);
  });

  test('many frames in one read, including empty lines', () => {
    expect(texts(new LineDecoder().push(Buffer.from('a\nbb\n\nccc\n')))).toEqual([
      'a',
      'bb',
      '',
      'ccc',
    ]);
  });

  test('byte at a time gives the same frames', () => {
    const bytes = Buffer.from('one\r\ntwo\nthree\n');
    const d = new LineDecoder();
    const frames = [...bytes].flatMap((b) => d.push(Uint8Array.of(b)));
    expect(texts(frames)).toEqual(['one', 'two', 'three']);
  });

  test('CRLF from telnet: the \\r is dropped, a lone \\r elsewhere is kept', () => {
    expect(texts(new LineDecoder().push(Buffer.from('hi\r\na\rb\n')))).toEqual(['hi', 'a\rb']);
  });

  test('a multi-byte UTF-8 character split at every offset decodes intact', () => {
    const bytes = Buffer.from('héllo 🌍 wörld\n');
    for (let i = 1; i < bytes.length; i++) {
      const d = new LineDecoder();
      const frames = [...d.push(bytes.subarray(0, i)), ...d.push(bytes.subarray(i))];
      expect(texts(frames)).toEqual(['héllo 🌍 wörld']);
    }
  });

  test('invalid UTF-8 is rejected as BAD_UTF8, and the next line still decodes', () => {
    const d = new LineDecoder();
    const frames = d.push(Buffer.concat([Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('ok\n')]));
    expect(texts(frames)).toEqual(['!BAD_UTF8', 'ok']);
  });

  test('a frame of exactly the maximum length is accepted, with or without \\r', () => {
    const d = new LineDecoder({ maxFrameBytes: 8 });
    expect(texts(d.push(Buffer.from('12345678\n12345678\r\n')))).toEqual(['12345678', '12345678']);
  });

  test('an oversized frame is rejected once, never truncated, and decoding resumes', () => {
    const d = new LineDecoder({ maxFrameBytes: 8 });
    const frames = feed(d, [
      Buffer.from('123456789'),
      Buffer.from('0123'),
      Buffer.from('456\nnext\n'),
    ]);
    expect(texts(frames)).toEqual(['!FRAME_TOO_LARGE', 'next']);
    const err = (frames[0] as { ok: false; error: ChatError }).error;
    expect(err).toBeInstanceOf(ChatError);
    expect(err.message).toContain('8 bytes');
  });

  test('an oversized frame is reported as soon as it passes the limit, before any newline', () => {
    const d = new LineDecoder({ maxFrameBytes: 8 });
    expect(texts(d.push(Buffer.from('x'.repeat(10))))).toEqual(['!FRAME_TOO_LARGE']);
    // Nothing is buffered while the rest of the bad line is skipped.
    expect(d.push(Buffer.from('x'.repeat(1000)))).toEqual([]);
    expect(d.bufferedBytes).toBe(0);
  });

  test("the decoder copies what it keeps: reusing the caller's buffer changes nothing", () => {
    const d = new LineDecoder();
    const chunk = Buffer.from('abc');
    d.push(chunk);
    chunk.fill(0x7a);
    expect(texts(d.push(Buffer.from('\n')))).toEqual(['abc']);
  });
});

describe('LineDecoder properties', () => {
  const line = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !/[\r\n]/.test(s));

  test('any way of cutting a byte stream into chunks yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lines, offsets) => {
          const bytes = Buffer.concat(lines.map((l) => encodeFrame(l)));
          const whole = texts(new LineDecoder({ maxFrameBytes: 1024 }).push(bytes));
          const chunked = texts(
            feed(new LineDecoder({ maxFrameBytes: 1024 }), cut(bytes, offsets)),
          );
          expect(whole).toEqual(lines);
          expect(chunked).toEqual(lines);
        },
      ),
    );
  });

  test('with a line limit, each call gives at most that many, and draining the rest gives the same frames', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }).map((b) => b.map((x) => (x % 3 === 0 ? 0x0a : x))),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 5 }),
        (bytes, offsets, maxLines) => {
          const whole = new LineDecoder({ maxFrameBytes: 16 }).push(bytes);
          const d = new LineDecoder({ maxFrameBytes: 16 });
          const limited: DecodedFrame[] = [];
          for (const chunk of cut(bytes, offsets)) {
            let batch = d.push(chunk, maxLines);
            for (;;) {
              expect(batch.length).toBeLessThanOrEqual(maxLines);
              limited.push(...batch);
              if (!d.hasUnread) break;
              batch = d.more(maxLines);
            }
          }
          expect(limited).toEqual(whole);
        },
      ),
    );
  });

  test('a read of 65,536 empty lines, split 64 at a time, makes 64 lines per call', () => {
    const d = new LineDecoder();
    const chunk = Buffer.alloc(65_536, 0x0a);
    let calls = 1;
    let total = d.split(chunk, 64).length;
    chunk.fill(0x78); // the caller reuses its buffer: what is left unread was copied
    while (d.hasUnread) {
      const lines = d.moreLines(64);
      expect(lines.length).toBeLessThanOrEqual(64);
      for (const line of lines) expect(line).toEqual({ ok: true, bytes: new Uint8Array(0) });
      total += lines.length;
      calls++;
    }
    expect([total, calls]).toEqual([65_536, 1_024]);
  });

  test('random bytes in random chunks never throw, and rejects never exceed the limit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bytes, offsets) => {
          const d = new LineDecoder({ maxFrameBytes: 16 });
          const frames = feed(d, cut(bytes, offsets));
          for (const f of frames) {
            if (f.ok) expect(Buffer.byteLength(f.text)).toBeLessThanOrEqual(16);
            else expect(['FRAME_TOO_LARGE', 'BAD_UTF8']).toContain(f.error.code);
          }
          expect(d.bufferedBytes).toBeLessThanOrEqual(17);
        },
      ),
    );
  });
});

describe('encodeFrame', () => {
  test('appends a newline and encodes UTF-8', () => {
    expect(encodeFrame('hé')).toEqual(Buffer.from([0x68, 0xc3, 0xa9, 0x0a]));
  });

  test('refuses text that would split into two frames', () => {
    expect(() => encodeFrame('a\nb')).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    expect(() => encodeFrame('a\rb')).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
  });
});

describe('encodeFrames', () => {
  test('the same bytes as encodeFrame of each text, in one buffer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme' }).filter((t) => !/[\r\n]/.test(t))),
        (texts) => {
          expect(encodeFrames(texts)).toEqual(Buffer.concat(texts.map((t) => encodeFrame(t))));
        },
      ),
    );
  });

  test('refuses the batch if any text would split into two frames', () => {
    expect(() => encodeFrames(['ok', 'a\rb'])).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  });
});

describe('utf8Error', () => {
  test('the same verdict as decodeLine, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const decoded = decodeLine(bytes);
        expect(utf8Error(bytes)).toBe(decoded.ok ? undefined : decoded.error);
      }),
    );
  });

  test('a lone continuation byte or an encoded surrogate is BAD_UTF8', () => {
    expect(utf8Error(Buffer.from([0x80]))?.code).toBe('BAD_UTF8');
    expect(utf8Error(Buffer.from([0xed, 0xa0, 0x80]))?.code).toBe('BAD_UTF8');
    expect(utf8Error(Buffer.from('héllo 👋'))).toBeUndefined();
  });
});
