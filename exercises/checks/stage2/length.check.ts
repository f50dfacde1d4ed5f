// Stage 2: length-prefixed frames. The task and the stub are in
// exercises/core/stage2/length-decoder.ts.
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { seededRandom } from '../../kit/seeded-random';
import { trickle } from '../../kit/trickle';
import { runIsolated } from '../../kit/isolated';

const STARTER = 'exercises/core/stage2/length-decoder.ts';

/** The stub's API (see the starter file). */
type Frame = { ok: true; payload: Uint8Array } | { ok: false; error: { code: string } };
interface Decoder {
  push(chunk: Uint8Array): Frame[];
}
interface Core {
  encodeFrame(payload: Uint8Array): Buffer;
  LengthDecoder: new (options?: { maxFrameBytes?: number }) => Decoder;
}

function decoder(ctx: CheckContext, maxFrameBytes?: number): Decoder {
  const { LengthDecoder } = ctx.load<Core>(STARTER);
  return new LengthDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
}

/** A frame as one comparable string: the payload in hex, or `!CODE`. */
type Shown = string;
function show(frames: Frame[]): Shown[] {
  if (!Array.isArray(frames)) throw new Error(`push() returned ${String(frames)}, not an array`);
  return frames.map((f) => (f.ok ? hex(f.payload) : `!${f.error?.code}`));
}
const hex = (bytes: Uint8Array) =>
  bytes.length === 0 ? '(empty)' : Buffer.from(bytes).toString('hex');

/** Pushes the pieces in order and returns every frame they produced. */
function feed(d: Decoder, pieces: Uint8Array[]): Shown[] {
  return pieces.flatMap((p) => show(d.push(p)));
}

/** The bytes of a frame, made here (not with the learner's encodeFrame). */
function frame(payload: Uint8Array | string, announced?: number): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(announced ?? body.length);
  return Buffer.concat([header, body]);
}

const singleBytes = (stream: Buffer) => [...stream].map((b) => Buffer.of(b));

/** What any decoder must produce for a whole stream, read the obvious way. */
function model(stream: Buffer, max: number): Shown[] {
  const out: Shown[] = [];
  for (let at = 0; at + 4 <= stream.length;) {
    const length = stream.readUInt32BE(at);
    if (length > max) return [...out, '!FRAME_TOO_LARGE'];
    if (at + 4 + length > stream.length) return out;
    out.push(hex(stream.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

export const exercise: Exercise = {
  title: 'Length-prefixed frames: a 4-byte length, then the payload',
  readme: 'stage2-client-server/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'encodeFrame puts the length first, 4 bytes big-endian',
      hint: 'const header = Buffer.alloc(4); header.writeUInt32BE(payload.length); then Buffer.concat([header, payload])',
      async run(ctx) {
        const { encodeFrame } = ctx.load<Core>(STARTER);
        for (const payload of [Buffer.from('hi'), Buffer.alloc(0), Buffer.alloc(300, 0x61)]) {
          assert.equal(
            hex(encodeFrame(payload)),
            hex(frame(payload)),
            `encodeFrame of ${payload.length} bytes`,
          );
        }
      },
    },
    {
      name: 'one chunk holding several frames gives each, in order: an empty one, and \\n, 00 and ff kept as they are',
      hint: 'read a length, take that many bytes, repeat while the chunk has a whole frame left; the payload is bytes, never decoded',
      async run(ctx) {
        const stream = Buffer.concat([
          frame('hello'),
          frame(''),
          frame(Buffer.of(0x0a, 0x00, 0xff, 0x0d)),
          frame('a'.repeat(300)),
        ]);
        assert.deepEqual(feed(decoder(ctx), [stream]), [
          hex(Buffer.from('hello')),
          '(empty)',
          '0a00ff0d',
          hex(Buffer.from('a'.repeat(300))),
        ]);
        assert.deepEqual(
          feed(decoder(ctx), [frame('unfinished').subarray(0, 9)]),
          [],
          'half a frame',
        );
      },
    },
    {
      name: 'a stream cut anywhere, inside a header too, or into single bytes, gives the same frames',
      hint: 'keep the bytes you cannot use yet (even 1 to 3 header bytes) and put them in front of the next chunk',
      async run(ctx) {
        const stream = Buffer.concat([frame('first'), frame(''), frame('third one')]);
        const expected = model(stream, 4096);
        for (let cut = 0; cut <= stream.length; cut++) {
          const got = feed(decoder(ctx), [stream.subarray(0, cut), stream.subarray(cut)]);
          assert.deepEqual(got, expected, `cut after byte ${cut}`);
        }
        assert.deepEqual(feed(decoder(ctx), singleBytes(stream)), expected, 'byte by byte');
      },
    },
    {
      name: 'with maxFrameBytes 16: 16 bytes pass; a header announcing 17 is FRAME_TOO_LARGE at once',
      hint: 'compare the announced length with maxFrameBytes as soon as the 4 header bytes are in, before any payload arrives',
      async run(ctx) {
        assert.deepEqual(
          feed(decoder(ctx, 16), [frame('x'.repeat(16))]),
          [hex(Buffer.from('x'.repeat(16)))],
          '16 bytes',
        );
        const d = decoder(ctx, 16);
        assert.deepEqual(
          feed(d, singleBytes(frame('', 17))),
          ['!FRAME_TOO_LARGE'],
          'the 4 header bytes of a 17-byte frame, one at a time, with no payload sent',
        );
      },
    },
    {
      name: 'the length is unsigned: ff ff ff ff is 4 GiB and 80 00 00 00 is 2 GiB (both refused), never negative',
      hint: 'readUInt32BE, not readInt32BE: a negative length makes a decoder loop or allocate without end',
      async run(ctx) {
        // In a process of its own, with little memory and a deadline: a
        // negative length often sends a decoder into an endless loop, which
        // would freeze the runner itself.
        const shown = await runIsolated(
          ctx,
          STARTER,
          `return ['ffffffff', '80000000'].map((header) =>
             new learner.LengthDecoder()
               .push(Buffer.from(header + '68656c6c6f', 'hex'))
               .map((f) => (f.ok ? 'a frame of ' + f.payload.length + ' bytes' : '!' + f.error.code)));`,
        ).catch((err: Error) => {
          throw new Error(`push() of a header ff ff ff ff: ${err.message}`);
        });
        assert.deepEqual(
          shown,
          [['!FRAME_TOO_LARGE'], ['!FRAME_TOO_LARGE']],
          'push() of ff ff ff ff + "hello", then of 80 00 00 00 + "hello"',
        );
      },
    },
    {
      name: 'after FRAME_TOO_LARGE the decoder stops: good frames after it give nothing',
      hint: 'remember that the stream was refused and return [] from every later push(); do not try to skip the payload',
      async run(ctx) {
        const d = decoder(ctx, 16);
        assert.deepEqual(
          feed(d, [Buffer.concat([frame('x'.repeat(17)), frame('fine')])]),
          ['!FRAME_TOO_LARGE'],
          'a refused frame and a good one in one chunk',
        );
        for (let i = 0; i < 3; i++) {
          assert.deepEqual(feed(d, [frame('later')]), [], `a good frame pushed later (${i + 1})`);
        }
      },
    },
    {
      name: '300 random streams, cut at random places, give the frames a whole reading gives',
      hint: 'the message shows the first stream that differs, as hex chunks',
      async run(ctx) {
        const next = seededRandom(9);
        for (let i = 0; i < 300; i++) {
          const frames: Buffer[] = [];
          const count = 1 + Math.floor(next() * 6);
          for (let f = 0; f < count; f++) {
            // Mostly fitting payloads; now and then one over the limit of 24.
            // Bytes below 0x80, so a decoder that misreads a payload as a
            // header never sees a negative length (the check above does).
            const size = next() < 0.08 ? 25 + Math.floor(next() * 40) : Math.floor(next() * 25);
            frames.push(
              frame(Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 128)))),
            );
          }
          // Sometimes a frame cut short at the end: it must produce nothing.
          let stream = Buffer.concat(frames);
          if (next() < 0.3) stream = stream.subarray(0, stream.length - 1 - Math.floor(next() * 3));
          const chunks: Buffer[] = [];
          for (let at = 0; at < stream.length;) {
            const size = Math.floor(next() * 11);
            chunks.push(stream.subarray(at, at + size));
            at += size;
          }
          let got: Shown[];
          try {
            got = feed(decoder(ctx, 24), chunks);
          } catch (err) {
            throw new Error(`push() threw ${String(err)} on chunks ${chunks.map(hex).join(' ')}`);
          }
          assert.deepEqual(
            got,
            model(stream, 24),
            `stream ${i} (maxFrameBytes 24), in chunks ${chunks.map(hex).join(' ').slice(0, 200)}`,
          );
        }
      },
    },
    {
      name: 'through a real socket: 500 frames written in 7-byte pieces arrive whole and in order',
      hint: 'one decoder per connection, fed every "data" chunk in order',
      async run(ctx) {
        const { encodeFrame } = ctx.load<Core>(STARTER);
        const payloads = Array.from({ length: 500 }, (_, i) =>
          Buffer.from(`frame ${i}\n${'é👋'.repeat(i % 7)}`, 'utf8'),
        );
        const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
        const d = decoder(ctx); // one connection, so one decoder
        const received: Shown[] = [];
        await trickle(ctx, stream, 7, (chunk) => {
          received.push(...show(d.push(chunk)));
          return received.length >= payloads.length;
        });
        assert.deepEqual(received, payloads.map(hex));
      },
    },
  ],
};
