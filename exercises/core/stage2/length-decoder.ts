// Stage 2: frames with a length prefix instead of a newline.
//
//   npm run exercise -- stage2/length     checks this file
//
// Lines end where a `\n` is, so a message can never hold a `\n`, and the
// decoder must look at every byte. The other common framing puts the length
// first: a 4-byte big-endian unsigned number, then exactly that many bytes
// of payload. Binary protocols (TLS records, HTTP/2, most databases' wire
// protocols) work this way. The payload is bytes, any bytes: `\n`, 0x00,
// 0xff, anything. The same lesson as the line decoder holds: TCP delivers
// bytes, so a read may hold half a header, three frames, or a frame's last
// byte and the next one's first.
//
// The task: write encodeFrame() and LengthDecoder.push() below.
// 1. encodeFrame(payload) returns the header, the payload's length as 4
//    bytes big-endian (Buffer's writeUInt32BE), then the payload.
// 2. push(chunk) takes each chunk exactly as the socket delivered it and
//    returns the frames it completed, in order. Any split of the stream gives
//    the same frames, also a split inside the 4 header bytes. A length of 0
//    is a frame with an empty payload.
// 3. A header announcing more than maxFrameBytes is refused with
//    FRAME_TOO_LARGE as soon as its 4 bytes are in, without waiting for (or
//    keeping) the payload. Read the length UNSIGNED: ff ff ff ff is
//    4 294 967 295, not -1.
// 4. After FRAME_TOO_LARGE the decoder is done: every later push() returns
//    no frame. Unlike a line, a refused frame leaves no safe place to carry
//    on: skipping it means reading as many bytes as the sender claims, up to
//    4 GiB, on the word of a sender who already broke the rules. The caller
//    closes the connection.
// 5. push() never throws on input.
//
// Stage 2's chapter lists this as an idea ("length-prefixed frames"); the
// line decoder you may have written for stage2/core is the closest relative.
// The reference solution is exercises/solutions/stage2/length.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import { ChatError } from '../../../shared/src/errors';

/** Bytes in a frame's header: its payload length, unsigned, big-endian. */
export const HEADER_BYTES = 4;

/** A complete frame: its payload, exactly the bytes sent. */
export interface PayloadFrame {
  /** Always `true`. */
  ok: true;
  /** The payload's bytes. */
  payload: Buffer;
}

/** A frame refused for its announced length; the decoder stops after it. */
export interface RefusedFrame {
  /** Always `false`. */
  ok: false;
  /** `new ChatError('FRAME_TOO_LARGE', …)`. */
  error: ChatError;
}

/** What the decoder produced for one frame. */
export type LengthFrame = PayloadFrame | RefusedFrame;

/**
 * Frames a payload: its length as 4 bytes big-endian, then its bytes.
 *
 * @param payload - the bytes to send
 */
export function encodeFrame(payload: Uint8Array): Buffer {
  throw new Error('encodeFrame is not written yet');
}

/** Splits a byte stream into length-prefixed frames. */
export class LengthDecoder {
  /** The largest accepted payload in bytes. */
  readonly maxFrameBytes: number;

  /** @param options - the payload size limit; default 4096 bytes */
  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 4096;
  }

  /**
   * Consumes one chunk and returns the frames it completed, in order.
   *
   * @param chunk - bytes exactly as the socket delivered them
   */
  push(chunk: Uint8Array): LengthFrame[] {
    throw new Error('push is not written yet');
  }
}
