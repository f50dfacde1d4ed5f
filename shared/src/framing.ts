/**
 * Newline framing: turning a TCP byte stream into lines and back.
 *
 * Introduced by stage 2 and used by every stage after it. TCP delivers bytes,
 * not messages: one `data` event may hold half a line, three lines, or a line
 * that ends in the middle of a multi-byte UTF-8 character. The decoder keeps
 * the leftover bytes between reads and only decodes complete lines, so none of
 * those cases can corrupt a message.
 *
 * Rules (the wire format of stages 2–4, and the outer layer of stages 5–6):
 * - a frame is UTF-8 text ending in `\n`; a `\r` just before it is dropped, so
 *   telnet (which sends `\r\n`) works;
 * - a frame longer than `maxFrameBytes` (not counting the line ending) is
 *   rejected with `FRAME_TOO_LARGE`, never truncated: a truncated message can
 *   mean something its sender never said;
 * - bytes that are not valid UTF-8 give `BAD_UTF8` instead of replacement
 *   characters.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { ChatError } from './errors';

/** The default maximum frame length in bytes, excluding the line ending. */
export const DEFAULT_MAX_FRAME_BYTES = 4096;

const LF = 0x0a;
// One decoder for every connection: without `{ stream: true }` a TextDecoder
// keeps no state between calls (we only ever decode complete lines), and a
// decoder per connection would cost memory on every idle connection (the
// benchmark measures it; see the bench report).
// `ignoreBOM`: by default a TextDecoder silently drops a leading U+FEFF, which
// would change a frame's text (the fuzz campaign found it): keep every character.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

/** A frame that decoded: its text, without the line ending. */
export interface TextFrame {
  /** Always `true`: the frame is usable. */
  ok: true;
  /** The frame's text, decoded from UTF-8, without `\r\n` or `\n`. */
  text: string;
}

/** A frame that was rejected; the decoder has already skipped past it. */
export interface RejectedFrame {
  /** Always `false`: the frame is not usable. */
  ok: false;
  /** Why: `FRAME_TOO_LARGE` or `BAD_UTF8`. */
  error: ChatError;
}

/** What the decoder produced for one frame: its text, or why it was rejected. */
export type DecodedFrame = TextFrame | RejectedFrame;

/**
 * A complete line within the size limit, as bytes: not yet checked for
 * UTF-8 nor decoded (see {@link decodeLine}).
 */
export interface LineBytes {
  /** Always `true`: the line is within the size limit. */
  ok: true;
  /** The line's bytes, without `\r\n` or `\n`; may share memory with the chunk read. */
  bytes: Uint8Array;
}

/** What {@link LineDecoder.split} produced for one line: its bytes, or why it was rejected. */
export type SplitLine = LineBytes | RejectedFrame;

/** Options for {@link LineDecoder}. */
export interface LineDecoderOptions {
  /** Longest accepted frame in bytes, excluding `\r\n`. Default {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

/**
 * Splits a byte stream into newline-terminated UTF-8 frames.
 *
 * Feed it every chunk a socket delivers, in order; it returns the frames that
 * chunk completed. It never throws on input: a bad frame comes back as an
 * `{ ok: false }` entry and the decoder carries on at the next line, so the
 * caller decides whether to answer with an error or to disconnect.
 *
 * @example
 * ```ts
 * const decoder = new LineDecoder();
 * decoder.push(Buffer.from('hel'));        //=> []
 * decoder.push(Buffer.from('lo\r\nbye\n')); //=> [{ ok: true, text: 'hello' }, { ok: true, text: 'bye' }]
 * ```
 */
export class LineDecoder {
  /** The longest accepted frame, in bytes. */
  readonly maxFrameBytes: number;
  // Bytes of the current, unfinished line. Kept as a list of slices so a long
  // line arriving in many small reads is copied once, not once per read.
  // Undefined between lines, which is where an idle connection sits: a server
  // holding thousands of them keeps no empty list for each.
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  // True after an oversized line was reported, until its newline arrives: the
  // rest of that line is dropped so the next line decodes normally.
  private discarding = false;
  // What a split with a line limit left of its chunk, not looked at yet (a
  // copy: the caller's chunk may be reused). Undefined when there is none.
  private unread: Buffer | undefined;

  /** @param options - the frame length limit */
  constructor(options: LineDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /**
   * Consumes one chunk of bytes and returns the frames it completed.
   *
   * @param chunk - bytes exactly as the socket delivered them
   * @param maxLines - return at most this many; the rest of the chunk waits,
   *   unread, for {@link more} (see {@link split})
   * @returns zero or more decoded frames, in order
   */
  push(chunk: Uint8Array, maxLines = Infinity): DecodedFrame[] {
    return this.split(chunk, maxLines).map((line) => (line.ok ? decodeLine(line.bytes) : line));
  }

  /**
   * The next lines of what an earlier call left unread, decoded.
   *
   * @param maxLines - return at most this many
   */
  more(maxLines: number): DecodedFrame[] {
    return this.push(EMPTY, maxLines);
  }

  /**
   * The next lines of what an earlier call left unread, as {@link split} gives them.
   *
   * @param maxLines - return at most this many
   */
  moreLines(maxLines: number): SplitLine[] {
    return this.split(EMPTY, maxLines);
  }

  /** Whether a call with a line limit left part of its chunk unread. */
  get hasUnread(): boolean {
    return this.unread !== undefined;
  }

  /**
   * Consumes one chunk of bytes and returns the lines it completed, checked
   * for size but not decoded: for a caller that can recognise its commonest
   * frame from its bytes and decodes only the others (with {@link decodeLine}),
   * instead of turning every line into a string first.
   *
   * A server passes `maxLines`: one 64 KiB read of newlines is 65,536
   * lines, and splitting it whole made as many objects at once, with every
   * other client waiting, and kept them while the lines waited. With a limit,
   * the rest of the chunk is kept unread (copied once) until asked for with
   * {@link moreLines} (or {@link more}); {@link hasUnread} says there is
   * some. (The server reads nothing more meanwhile; a new chunk would go
   * after it.)
   *
   * @param chunk - bytes exactly as the socket delivered them
   * @param maxLines - return at most this many lines; default: all
   * @returns zero or more lines, in order; a line's bytes may be a view of
   *   `chunk`, so they stay valid only while nobody reuses its memory (a
   *   socket hands every read a fresh Buffer, so a server may keep them)
   */
  split(chunk: Uint8Array, maxLines = Infinity): SplitLine[] {
    let owned = false; // whether `chunk` is our own copy (the unread rest)
    if (this.unread !== undefined) {
      chunk = chunk.length === 0 ? this.unread : Buffer.concat([this.unread, chunk]);
      this.unread = undefined;
      owned = true;
    }
    const frames: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      if (frames.length >= maxLines) {
        const rest = chunk.subarray(start);
        this.unread = owned
          ? Buffer.from(rest.buffer, rest.byteOffset, rest.length)
          : Buffer.from(rest);
        break;
      }
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.discarding) {
        // +1 leaves room for a '\r' that the newline has not yet shown to be a line ending.
        if (this.pendingBytes + (end - start) > this.maxFrameBytes + 1) {
          frames.push({ ok: false, error: this.tooLarge() });
          this.pending = undefined;
          this.pendingBytes = 0;
          this.discarding = true;
        } else if (newline !== -1 && this.pending === undefined) {
          // The whole line is inside this chunk (the common case): take it
          // from the chunk itself. Nothing is kept, so nothing is copied.
          frames.push(this.complete(chunk.subarray(start, end)));
          start = newline + 1;
          continue;
        } else if (end > start) {
          // Copy the slice: the caller (or Node) may reuse the chunk's memory.
          const pending = (this.pending ??= []);
          pending.push(Buffer.from(chunk.subarray(start, end)));
          this.pendingBytes += end - start;
          // A line trickling in a byte at a time would otherwise keep one tiny
          // Buffer per byte; merge them now and then.
          if (pending.length > 32) this.pending = [Buffer.concat(pending)];
        }
      }
      if (newline === -1) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        frames.push(this.finishLine());
      }
      start = newline + 1;
    }
    return frames;
  }

  /** Bytes received for a line that has not ended yet (0 after a complete line). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  // The line that the newline just ended began in an earlier chunk: join its parts.
  private finishLine(): SplitLine {
    const parts = this.pending ?? [];
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.pending = undefined;
    this.pendingBytes = 0;
    return this.complete(line);
  }

  // One complete line, without its \n: drop a '\r' before it, check its size.
  private complete(line: Uint8Array): SplitLine {
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxFrameBytes) return { ok: false, error: this.tooLarge() };
    return { ok: true, bytes: line };
  }

  private tooLarge(): ChatError {
    return new ChatError(
      'FRAME_TOO_LARGE',
      `line longer than ${this.maxFrameBytes} bytes (lines are rejected, never truncated)`,
    );
  }
}

// One answer for every line that is not UTF-8: it says nothing about the line.
const NOT_UTF8: RejectedFrame = {
  ok: false,
  error: new ChatError('BAD_UTF8', 'frame is not valid UTF-8'),
};

/**
 * Decodes one line's bytes (from {@link LineDecoder.split}) as UTF-8.
 *
 * @param bytes - the line, without its line ending
 * @returns its text, or `BAD_UTF8` for bytes that are not valid UTF-8
 *   (never replacement characters)
 */
export function decodeLine(bytes: Uint8Array): DecodedFrame {
  // Checked first, not caught: a line of junk costs a scan, not a thrown
  // exception and a new error with its stack (thousands of bad lines in one
  // read must stay cheap to answer).
  if (!isUtf8(bytes)) return NOT_UTF8;
  return { ok: true, text: UTF8.decode(bytes) };
}

/**
 * The check {@link decodeLine} makes, without the decoding: for a relay that
 * forwards a line's bytes as they came and never needs them as a string.
 *
 * @param bytes - the line, without its line ending
 * @returns `BAD_UTF8` for bytes that are not valid UTF-8, else `undefined`
 */
export function utf8Error(bytes: Uint8Array): ChatError | undefined {
  return isUtf8(bytes) ? undefined : NOT_UTF8.error;
}

/**
 * Encodes one frame: the text as UTF-8 followed by `\n`.
 *
 * @param text - the frame's text; it must not contain a newline
 * @returns the bytes to write to the socket
 * @throws ChatError `BAD_FRAME` if `text` contains `\n` or `\r` (it would become two frames)
 */
export function encodeFrame(text: string): Buffer {
  checkFrameText(text);
  return Buffer.from(text + '\n', 'utf8');
}

/**
 * Encodes several frames into one buffer, for one write: the same bytes as
 * `encodeFrame` of each text, one after the other, but one allocation and
 * one encoding for all of them. A relay uses it for the lines one read
 * completed, which then cost one write per recipient instead of one per line.
 *
 * @param texts - the frames' texts; none may contain a newline
 * @returns the bytes to write (empty when `texts` is)
 * @throws ChatError `BAD_FRAME` if a text contains `\n` or `\r`
 *
 * @example
 * ```ts
 * encodeFrames(['a', 'b']).toString(); //=> 'a\nb\n'
 * ```
 */
export function encodeFrames(texts: readonly string[]): Buffer {
  if (texts.length === 0) return Buffer.alloc(0);
  for (const text of texts) checkFrameText(text);
  return Buffer.from(texts.join('\n') + '\n', 'utf8');
}

// A line break inside a frame's text would make it two frames on the wire.
function checkFrameText(text: string): void {
  if (text.includes('\n') || text.includes('\r')) {
    throw new ChatError('BAD_FRAME', 'a frame cannot contain a line break');
  }
}
