/**
 * The malformed input the soak throws at the servers, each with the error
 * code the server must answer with. Built by hand (not through the encoders),
 * since the encoders refuse to produce most of these.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { ChatErrorCode } from '../shared/src/errors';

/** One bad frame and the server's expected answer. */
export interface BadFrame {
  /** A short name for the report. */
  kind: string;
  /** The bytes to write, newline included. */
  bytes: Buffer;
  /** The error code the server must send back. */
  code: ChatErrorCode;
}

/** Random bytes with no newline in them (a newline would split the frame). */
function noNewline(length: number): Buffer {
  const bytes = randomBytes(length);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x20;
  return bytes;
}

/**
 * Garbage: random bytes that are never valid UTF-8 (a 0xFF byte cannot
 * appear in UTF-8), so the answer is always `BAD_UTF8`.
 */
export function garbageFrame(): BadFrame {
  const bytes = Buffer.concat([Buffer.from([0xff]), noNewline(8 + (randomBytes(1)[0]! % 64))]);
  return {
    kind: 'garbage bytes',
    bytes: Buffer.concat([bytes, Buffer.from('\n')]),
    code: 'BAD_UTF8',
  };
}

/** A truncated UTF-8 sequence in the middle of otherwise plain text. */
export function invalidUtf8Frame(): BadFrame {
  const bytes = Buffer.concat([Buffer.from('caf'), Buffer.from([0xc3]), Buffer.from(' au lait\n')]);
  return { kind: 'invalid UTF-8', bytes, code: 'BAD_UTF8' };
}

/**
 * The frames that only the JSON stages (5 and 6) reject with `BAD_FRAME`:
 * broken JSON, an unknown type, a known type with a field too many.
 */
export function jsonBadFrames(): BadFrame[] {
  const line = (kind: string, text: string): BadFrame => ({
    kind,
    bytes: Buffer.from(text + '\n'),
    code: 'BAD_FRAME',
  });
  return [
    line('bad JSON', '{"type":"chat","box":'),
    line('unknown type', '{"type":"shout","text":"hi"}'),
    line('extra field', '{"type":"who","admin":true}'),
    line('not an object', '[1,2,3]'),
  ];
}

/**
 * A frame longer than the server's limit: the server must answer
 * `FRAME_TOO_LARGE` and close the connection.
 *
 * @param maxFrameBytes - the server's limit
 */
export function oversizedFrame(maxFrameBytes: number): BadFrame {
  return {
    kind: 'oversized frame',
    bytes: Buffer.from('x'.repeat(maxFrameBytes + 1024) + '\n'),
    code: 'FRAME_TOO_LARGE',
  };
}

/**
 * Picks one element at random.
 *
 * @param items - a non-empty list
 */
export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}
