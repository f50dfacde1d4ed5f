// Write the core of stage 2: the line decoder, which turns a TCP byte stream
// into lines.
//
//   npm run exercise -- stage2/core     checks this file
//
// TCP delivers bytes, not messages: one read may hold half a line, three
// lines, or a line that stops in the middle of a multi-byte UTF-8 character.
// The task: write push(), which takes each chunk exactly as the socket
// delivered it and returns the lines that chunk completed.
// 1. A line ends with `\n`; a `\r` just before it is dropped (telnet sends
//    `\r\n`). The text of the line, without its ending, is decoded from UTF-8.
// 2. Any split of the stream gives the same lines: keep the bytes of an
//    unfinished line until its `\n` arrives, and decode only complete lines
//    (decoding each chunk alone cuts a character split across two reads).
// 3. A line longer than maxFrameBytes bytes (not counting `\r\n`) is
//    rejected with FRAME_TOO_LARGE, NEVER truncated: a cut message can mean
//    something its sender never said. Report it as soon as the line is too
//    long, without waiting for its end (a line that never ends must not fill
//    the memory), drop the rest of it, and carry on with the next line.
// 4. A line that is not valid UTF-8 is rejected with BAD_UTF8, not decoded
//    into replacement characters.
// 5. push() never throws on input: a bad line is an `{ ok: false }` entry.
//
// Stage 2's chapter explains each rule. The course's own decoder is
// shared/src/framing.ts: read it when you are done, not before. The reference
// solution is exercises/solutions/stage2/core.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import { ChatError } from '../../../shared/src/errors';

/** A complete line, decoded: its text without `\r\n`. */
export interface TextFrame {
  /** Always `true`. */
  ok: true;
  /** The line's text. */
  text: string;
}

/** A line that was rejected; the decoder has moved past it. */
export interface RejectedFrame {
  /** Always `false`. */
  ok: false;
  /** `new ChatError('FRAME_TOO_LARGE', …)` or `new ChatError('BAD_UTF8', …)`. */
  error: ChatError;
}

/** What the decoder produced for one line. */
export type DecodedFrame = TextFrame | RejectedFrame;

/** Splits a byte stream into newline-terminated UTF-8 lines. */
export class LineDecoder {
  /** The longest accepted line in bytes, without its `\r\n`. */
  readonly maxFrameBytes: number;

  /** @param options - the line length limit; default 4096 bytes */
  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 4096;
  }

  /**
   * Consumes one chunk and returns the lines it completed, in order.
   *
   * @param chunk - bytes exactly as the socket delivered them
   */
  push(chunk: Uint8Array): DecodedFrame[] {
    throw new Error('push is not written yet');
  }
}
