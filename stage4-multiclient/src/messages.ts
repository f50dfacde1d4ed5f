/**
 * Stage 4's message vocabulary: every line the server sends.
 *
 * The wire is still plain lines, so `nc` is a working client. What a line
 * means is told by its first characters:
 *
 * | line                                         | meaning                          |
 * | -------------------------------------------- | -------------------------------- |
 * | `IP:PORT: TEXT`                              | a chat message from another client |
 * | `* welcome, you are IP:PORT (N online)`      | a notice (`* ` prefix)           |
 * | `! CODE: explanation`                        | an error with a stable code      |
 *
 * Keeping the formats in one file means the server never builds a line by
 * hand, and the tests can import the same functions to know what to expect.
 * A chat message is the one line built from bytes, not text (see {@link chatLines}).
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import { utf8Error } from '../../shared/src/framing';

const NEWLINE = Buffer.from('\n');
const CR = 0x0d;
const CR_INSIDE_LINE = new ChatError('BAD_FRAME', 'a line cannot contain a carriage return');

/**
 * Why a line cannot be relayed as chat, or `undefined` if it can. The
 * checks look at the line's bytes: the server forwards a line, so it never
 * needs it as a string (see {@link chatLines}).
 *
 * - `BAD_UTF8`: not valid UTF-8 (the others would see replacement characters);
 * - `BAD_FRAME`: a `\r` inside the line. A terminal that receives it moves
 *   the cursor back to the start of the line, where the rest of the message
 *   can draw a fake sender; some readers would even see two lines.
 *
 * @param text - one line's bytes, without its line ending
 */
export function chatTextError(text: Uint8Array): ChatError | undefined {
  return utf8Error(text) ?? (text.includes(CR) ? CR_INSIDE_LINE : undefined);
}

/**
 * The bytes that begin every chat line from one sender: `IP:PORT: `.
 * A connection encodes them once, not once per message.
 *
 * @param sender - the sender's label, assigned by the server (never by the client)
 */
export function chatPrefix(sender: string): Buffer {
  return Buffer.from(`${sender}: `, 'utf8');
}

/**
 * Chat messages as the other clients see them, `IP:PORT: TEXT` each, in one
 * buffer for one write: the sender's prefix, the line's bytes exactly as they
 * arrived, and a newline. Decoding the text into a string only to encode it
 * back would cost the relay a copy each way, for the same bytes.
 *
 * @param prefix - the sender's {@link chatPrefix}
 * @param texts - what the sender typed, one line each; every one passed {@link chatTextError}
 */
export function chatLines(prefix: Uint8Array, texts: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const text of texts) parts.push(prefix, text, NEWLINE);
  return Buffer.concat(parts);
}

/**
 * The first line a newcomer receives: who the server thinks it is.
 *
 * @param label - the newcomer's label
 * @param online - how many clients are in the room, the newcomer included
 */
export function welcomeNotice(label: string, online: number): string {
  return `* welcome, you are ${label} (${online} online)`;
}

/**
 * Tells everyone else that a client arrived.
 *
 * @param label - the newcomer's label
 * @param online - how many clients are in the room now
 */
export function joinedNotice(label: string, online: number): string {
  return `* ${label} joined (${online} online)`;
}

/**
 * Tells everyone that a client is gone, whatever the reason (it quit, its
 * connection broke, or the server cut it off).
 *
 * @param label - the label of the client that left
 * @param online - how many clients remain
 */
export function leftNotice(label: string, online: number): string {
  return `* ${label} left (${online} online)`;
}

/** The last line every client receives when the server stops. */
export const SHUTDOWN_NOTICE = '* server shutting down';

/**
 * An error line for one client: `! CODE: explanation`.
 *
 * @param error - the error; its code is stable, its message is for humans
 */
export function errorLine(error: ChatError): string {
  return `! ${error.code}: ${error.message}`;
}
