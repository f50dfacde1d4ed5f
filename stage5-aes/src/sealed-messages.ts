/**
 * Where the encryption sits: the client seals what it sends and opens what it
 * receives, so the bytes between the two clients, the server included, are boxes.
 *
 * Two pure functions, one per direction, so the whole end-to-end rule is
 * visible in one screen and testable without sockets:
 *
 * - {@link sealMessage}: typed text → a `chat` frame holding a box;
 * - {@link renderServerFrame}: a frame from the server → the one line the user
 *   sees. A box that fails authentication becomes a warning that names the
 *   claimed sender and shows nothing of the content: unauthenticated bytes are
 *   never printed as if someone had said them.
 *
 * Every string that came over the network (text, sender label, error message)
 * passes through `sanitizeForTerminal` here, so a message cannot drive the
 * terminal (clear the screen, move the cursor, fake another sender's line).
 *
 * @module
 */
import { openText, sealText } from '../../shared/src/crypto';
import { ChatError, isChatError } from '../../shared/src/errors';
import { MAX_TEXT_BYTES } from '../../shared/src/protocol';
import { sanitizeForTerminal } from '../../shared/src/terminal';
import { chatAssociatedData, encodeClientFrame, type ServerFrame } from './messages';

/**
 * Seals one chat message and encodes the frame that carries it.
 *
 * @param key - the room key
 * @param text - what the user typed
 * @returns the bytes to write to the socket: `{"type":"chat","box":"…"}\n`
 * @throws ChatError `BAD_FRAME` if `text` is longer than {@link MAX_TEXT_BYTES}
 *   in UTF-8 (the server would refuse the box)
 */
// #region ad
export function sealMessage(key: Uint8Array, text: string): Buffer {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_TEXT_BYTES) {
    throw new ChatError('BAD_FRAME', `message is ${bytes} bytes; the limit is ${MAX_TEXT_BYTES}`);
  }
  return encodeClientFrame({ type: 'chat', box: sealText(key, text, chatAssociatedData()) });
}
// #endregion ad

/**
 * One line for the user: a chat message (stdout), or a notice or warning
 * (stderr, so a script reading stdout sees only messages).
 */
export interface Rendered {
  /** `chat` goes to stdout; `notice` and `warning` go to stderr. */
  kind: 'chat' | 'notice' | 'warning';
  /** The line, already sanitized for the terminal. */
  text: string;
}

/**
 * Turns a decoded server frame into the line the user sees, opening chat
 * boxes with the room key.
 *
 * @param key - the room key
 * @param frame - a frame that passed `decodeServerFrame`
 * @returns the line to print
 *
 * @example
 * ```ts
 * renderServerFrame(key, { type: 'joined', who: '127.0.0.1:5555', online: 2 });
 * //=> { kind: 'notice', text: '* 127.0.0.1:5555 joined (2 online)' }
 * ```
 */
export function renderServerFrame(key: Uint8Array, frame: ServerFrame): Rendered {
  const safe = sanitizeForTerminal;
  switch (frame.type) {
    case 'chat':
      try {
        // #region ad
        const text = openText(key, frame.box, chatAssociatedData());
        // #endregion ad
        return { kind: 'chat', text: `${safe(frame.from)}: ${safe(text)}` };
      } catch (err) {
        if (!isChatError(err, 'DECRYPT_FAILED')) throw err;
        return {
          kind: 'warning',
          text: `! message from ${safe(frame.from)} failed authentication (tampered or wrong key) — not shown`,
        };
      }
    case 'welcome':
      return {
        kind: 'notice',
        text: `* welcome, you are ${safe(frame.you)} (${frame.online} online)`,
      };
    case 'joined':
      return { kind: 'notice', text: `* ${safe(frame.who)} joined (${frame.online} online)` };
    case 'left':
      return { kind: 'notice', text: `* ${safe(frame.who)} left (${frame.online} online)` };
    case 'error':
      if (frame.code === 'SHUTTING_DOWN') return { kind: 'notice', text: '* server shutting down' };
      return { kind: 'warning', text: `! ${frame.code}: ${safe(frame.message)}` };
  }
}
