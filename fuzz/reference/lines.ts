/**
 * The framing rules as a model: what a `LineDecoder` must produce for a whole
 * byte stream, computed the simplest way (split on `\n`), with none of the
 * decoder's incremental machinery. Feeding the real decoder the same stream
 * in any chunks must give exactly this.
 */
import { strictUtf8 } from './utf8';

/** One frame as the model sees it: text, or the code it is rejected with. */
export type ModelFrame = { ok: true; text: string } | { ok: false; code: string };

/** The frames of a stream and what stays buffered after it. */
export interface ModelResult {
  /** Every frame, in order. */
  frames: ModelFrame[];
  /** Bytes of the unfinished last line still held (0 while its oversized rest is skipped). */
  buffered: number;
}

/**
 * The frames a newline-framed stream holds, per the framing module's rules:
 * one optional `\r` before `\n` is dropped; a line over `maxFrameBytes` is
 * `FRAME_TOO_LARGE` (never truncated), reported as soon as it *must* be too
 * long (more than `maxFrameBytes + 1` bytes, since the last might be a `\r`);
 * invalid UTF-8 is `BAD_UTF8`.
 *
 * @param stream - every byte received, in order
 * @param maxFrameBytes - the frame limit
 */
export function modelLines(stream: Uint8Array, maxFrameBytes: number): ModelResult {
  const frames: ModelFrame[] = [];
  let start = 0;
  for (;;) {
    const newline = stream.indexOf(0x0a, start);
    if (newline === -1) {
      const rest = stream.length - start;
      if (rest > maxFrameBytes + 1) {
        frames.push({ ok: false, code: 'FRAME_TOO_LARGE' });
        return { frames, buffered: 0 };
      }
      return { frames, buffered: rest };
    }
    let line = stream.subarray(start, newline);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length > maxFrameBytes) {
      frames.push({ ok: false, code: 'FRAME_TOO_LARGE' });
    } else {
      const text = strictUtf8(line);
      frames.push(text === undefined ? { ok: false, code: 'BAD_UTF8' } : { ok: true, text });
    }
    start = newline + 1;
  }
}

/**
 * Cuts `bytes` into consecutive chunks at the given offsets (taken modulo the
 * length, sorted, deduplicated), so a property can try any way TCP might
 * split a stream.
 *
 * @param bytes - the whole stream
 * @param offsets - cut points, any naturals
 */
export function cut(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let previous = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  return chunks;
}
