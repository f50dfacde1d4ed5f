// Stage 2, write the core: the line decoder. The task and the stub are in
// exercises/core/stage2/line-decoder.ts.
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { seededRandom } from '../../kit/seeded-random';
import { trickle } from '../../kit/trickle';

const STARTER = 'exercises/core/stage2/line-decoder.ts';

/** The stub's API (see the starter file). */
interface Decoder {
  push(chunk: Uint8Array): ({ ok: true; text: string } | { ok: false; error: { code: string } })[];
}
interface Core {
  LineDecoder: new (options?: { maxFrameBytes?: number }) => Decoder;
}

/** A decoder from the learner's file. */
function decoder(ctx: CheckContext, maxFrameBytes?: number): Decoder {
  const { LineDecoder } = ctx.load<Core>(STARTER);
  return new LineDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
}

/** A frame as one comparable string: `"text"` for a line, `!CODE` for a rejection. */
type Shown = string;
function show(frames: ReturnType<Decoder['push']>): Shown[] {
  if (!Array.isArray(frames)) throw new Error(`push() returned ${String(frames)}, not an array`);
  return frames.map((f) => (f.ok ? JSON.stringify(f.text) : `!${f.error?.code}`));
}

/** Pushes the pieces in order and returns every frame they produced. */
function feed(d: Decoder, pieces: (string | Uint8Array)[]): Shown[] {
  return pieces.flatMap((p) => show(d.push(typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

const bytesOf = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => Buffer.of(b));

/**
 * What any decoder must produce for a whole stream, computed the obvious way
 * from all of it at once. (An unfinished last line produces nothing here;
 * the streams this is used on always end with `\n`.)
 */
function model(stream: Buffer, max: number): Shown[] {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const out: Shown[] = [];
  for (let start = 0; ;) {
    const newline = stream.indexOf(0x0a, start);
    if (newline === -1) return out;
    let line = stream.subarray(start, newline);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    if (line.length > max) out.push('!FRAME_TOO_LARGE');
    else {
      try {
        out.push(JSON.stringify(strict.decode(line)));
      } catch {
        out.push('!BAD_UTF8');
      }
    }
    start = newline + 1;
  }
}

const PIECES: (string | number[])[] = [
  'hello',
  ' ',
  'wörld',
  '€',
  '👋',
  '\r',
  '\ufeff',
  'x'.repeat(20),
  '',
  [0xff],
  [0xc3],
  [0xe2, 0x82],
];

/** A random stream of lines (some too long, some not UTF-8), ending with `\n`. */
function randomStream(next: () => number): Buffer {
  const parts: Buffer[] = [];
  const lines = 1 + Math.floor(next() * 8);
  for (let i = 0; i < lines; i++) {
    const pieces = Math.floor(next() * 6);
    for (let j = 0; j < pieces; j++) {
      const piece = PIECES[Math.floor(next() * PIECES.length)]!;
      // Invalid bytes are rare, so most lines still decode.
      if (Array.isArray(piece) && next() < 0.7) continue;
      parts.push(typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece));
    }
    parts.push(Buffer.from(next() < 0.3 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

/** Cuts a stream at random places (some cuts give empty chunks). */
function randomCuts(stream: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < stream.length) {
    const size = Math.floor(next() * 9);
    chunks.push(stream.subarray(start, start + size));
    start += size;
  }
  return chunks;
}

export const exercise: Exercise = {
  title: 'Write the core: the line decoder (split reads, UTF-8, the size limit)',
  readme: 'stage2-client-server/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'one chunk holding several lines gives each line, in order (an empty line too)',
      hint: 'look for every \\n in the chunk, not only the first; the text between two of them is a line',
      async run(ctx) {
        assert.deepEqual(feed(decoder(ctx), ['hello\nworld\n\nbye\n']), [
          '"hello"',
          '"world"',
          '""',
          '"bye"',
        ]);
        assert.deepEqual(feed(decoder(ctx), ['no newline yet']), [], 'an unfinished line');
      },
    },
    {
      name: 'a line cut anywhere, even into single bytes, comes out the same',
      hint: 'keep the bytes of an unfinished line between calls; a line is complete only at its \\n',
      async run(ctx) {
        const text = 'hello\nsecond line\n';
        for (let cut = 0; cut <= text.length; cut++) {
          const got = feed(decoder(ctx), [text.slice(0, cut), text.slice(cut)]);
          assert.deepEqual(got, ['"hello"', '"second line"'], `cut after ${cut} characters`);
        }
        assert.deepEqual(
          feed(decoder(ctx), bytesOf(text)),
          ['"hello"', '"second line"'],
          'byte by byte',
        );
      },
    },
    {
      name: 'a character cut between two reads stays whole (é, €, 👋, at every cut)',
      hint: 'decode only complete lines: a chunk decoded alone turns half a character into U+FFFD',
      async run(ctx) {
        for (const character of ['é', '€', '👋']) {
          const bytes = Buffer.from(`a${character}b\n`, 'utf8');
          for (let cut = 1; cut < bytes.length - 1; cut++) {
            const got = feed(decoder(ctx), [bytes.subarray(0, cut), bytes.subarray(cut)]);
            assert.deepEqual(
              got,
              [JSON.stringify(`a${character}b`)],
              `"a${character}b" cut after byte ${cut}`,
            );
          }
        }
      },
    },
    {
      name: 'a \\r just before \\n is dropped; a \\r anywhere else is kept',
      hint: 'after finding the \\n, drop one \\r if it is the last byte of the line',
      async run(ctx) {
        assert.deepEqual(feed(decoder(ctx), ['telnet\r\n', 'a\rb\n', '\r\r\n']), [
          '"telnet"',
          JSON.stringify('a\rb'),
          JSON.stringify('\r'),
        ]);
        assert.deepEqual(
          feed(decoder(ctx), ['cut\r', '\n']),
          ['"cut"'],
          '\\r and \\n in two reads',
        );
      },
    },
    {
      name: 'with maxFrameBytes 16: 16 bytes pass, 17 are FRAME_TOO_LARGE, never cut to 16',
      hint: 'compare the byte length of the line (without \\r\\n) to maxFrameBytes; reject it, do not slice it',
      async run(ctx) {
        const sixteen = 'x'.repeat(16);
        for (const [how, split] of [
          ['whole', (s: string) => [s]],
          ['byte by byte', bytesOf],
        ] as const) {
          assert.deepEqual(
            feed(decoder(ctx, 16), split(`${sixteen}\n`)),
            [`"${sixteen}"`],
            `16 bytes, ${how}`,
          );
          assert.deepEqual(
            feed(decoder(ctx, 16), split(`${sixteen}\r\n`)),
            [`"${sixteen}"`],
            `16 bytes + \\r\\n, ${how}`,
          );
          assert.deepEqual(
            feed(decoder(ctx, 16), split(`${sixteen}y\nnext\n`)),
            ['!FRAME_TOO_LARGE', '"next"'],
            `17 bytes, ${how}`,
          );
        }
      },
    },
    {
      name: 'the limit counts bytes, not characters: 8 × é (16 bytes) pass, 9 × é do not',
      hint: "a string's .length counts UTF-16 units; measure the line's bytes (Buffer length, or before decoding)",
      async run(ctx) {
        assert.deepEqual(feed(decoder(ctx, 16), [`${'é'.repeat(8)}\n`]), [
          JSON.stringify('é'.repeat(8)),
        ]);
        assert.deepEqual(feed(decoder(ctx, 16), [`${'é'.repeat(9)}\n`]), ['!FRAME_TOO_LARGE']);
      },
    },
    {
      name: 'a line that never ends is refused as soon as it is too long, once, and the next line is fine',
      hint: 'count the bytes of the unfinished line as they come; past the limit, report it and drop bytes until the next \\n',
      async run(ctx) {
        const d = decoder(ctx, 16);
        let fed = 0;
        const reported: Shown[] = [];
        while (reported.length === 0 && fed < 18) {
          reported.push(...feed(d, ['x']));
          fed++;
        }
        assert.deepEqual(
          reported,
          ['!FRAME_TOO_LARGE'],
          `after ${fed} bytes of one line with maxFrameBytes 16, push() had reported ${JSON.stringify(reported)}`,
        );
        const mebibyte = Buffer.alloc(64 * 1024, 'x');
        for (let i = 0; i < 16; i++)
          assert.deepEqual(feed(d, [mebibyte]), [], 'the rest of the long line');
        assert.deepEqual(feed(d, ['\nok\n']), ['"ok"'], 'the lines after it');
      },
    },
    {
      name: 'bytes that are not UTF-8 give BAD_UTF8, not U+FFFD, and the next line is fine',
      hint: "decode with new TextDecoder('utf-8', { fatal: true }) and turn its exception into BAD_UTF8",
      async run(ctx) {
        const bad = [
          Buffer.of(0xff, 0x0a),
          Buffer.of(0x63, 0x61, 0x66, 0xc3, 0x0a),
          Buffer.of(0xc0, 0xaf, 0x0a),
        ];
        assert.deepEqual(feed(decoder(ctx), [...bad, 'ok\n']), [
          '!BAD_UTF8',
          '!BAD_UTF8',
          '!BAD_UTF8',
          '"ok"',
        ]);
      },
    },
    {
      name: '300 random streams, cut at random places, give the lines a whole reading gives',
      hint: 'the message shows the first stream that differs; note that a TextDecoder drops a leading U+FEFF unless given ignoreBOM: true',
      async run(ctx) {
        const next = seededRandom(2);
        for (let i = 0; i < 300; i++) {
          const stream = randomStream(next);
          const expected = model(stream, 32);
          const chunks = randomCuts(stream, next);
          let got: Shown[];
          try {
            got = feed(decoder(ctx, 32), chunks);
          } catch (err) {
            throw new Error(`push() threw ${String(err)} on ${describe(chunks)}`);
          }
          assert.deepEqual(
            got,
            expected,
            `stream ${i}, in chunks ${describe(chunks)} (maxFrameBytes 32)`,
          );
        }
      },
    },
    {
      name: 'through a real socket: 500 lines written in 7-byte pieces arrive whole and in order',
      hint: 'one decoder per connection, fed every "data" chunk in order',
      async run(ctx) {
        const lines = Array.from({ length: 500 }, (_, i) => `line ${i}: ${'é👋'.repeat(i % 7)}`);
        const stream = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const d = decoder(ctx); // one connection, so one decoder
        const received: Shown[] = [];
        await trickle(ctx, stream, 7, (chunk) => {
          received.push(...show(d.push(chunk)));
          return received.length >= lines.length;
        });
        assert.deepEqual(
          received,
          lines.map((l) => JSON.stringify(l)),
        );
      },
    },
  ],
};

/** Chunks as short readable text for a failure message: ASCII as is, other bytes as \\xNN. */
function describe(chunks: Buffer[]): string {
  const shown = chunks.map((chunk) =>
    [...chunk]
      .map((b) =>
        b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
      )
      .join(''),
  );
  const text = JSON.stringify(shown).replaceAll('\\\\', '\\');
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}
