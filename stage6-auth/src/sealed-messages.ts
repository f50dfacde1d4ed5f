/**
 * Where the encryption sits in stage 6: as in stage 5, the client seals what
 * it sends and opens what it receives; new is the sender's username in every
 * box's associated data.
 *
 * - {@link sealMessage}: typed text → a `chat` frame whose box is bound to
 *   *my* username;
 * - {@link renderServerFrame}: a frame from the server → the one line the user
 *   sees. A chat box is opened with the `from` the server attached, so a box
 *   someone sealed under another name fails authentication and is shown as a
 *   warning, never as a message.
 *
 * Every string that came over the network passes through
 * `sanitizeForTerminal` here.
 *
 * @module
 */
import { openText, sealText } from '../../shared/src/crypto';
import { ChatError, isChatError } from '../../shared/src/errors';
import { MAX_TEXT_BYTES } from '../../shared/src/protocol';
import { sanitizeForTerminal } from '../../shared/src/terminal';
import { chatAssociatedData, encodeClientFrame, type ShownFrame } from './messages';

/**
 * Seals one chat message and encodes the frame that carries it.
 *
 * @param key - the room key
 * @param sender - my authenticated username (from the `welcome` frame)
 * @param text - what the user typed
 * @returns the bytes to write: `{"type":"chat","box":"…"}\n`
 * @throws ChatError `BAD_FRAME` if `text` is over {@link MAX_TEXT_BYTES} in UTF-8
 */
// #region ad
export function sealMessage(key: Uint8Array, sender: string, text: string): Buffer {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_TEXT_BYTES) {
    throw new ChatError('BAD_FRAME', `message is ${bytes} bytes; the limit is ${MAX_TEXT_BYTES}`);
  }
  // #region focus
  const box = sealText(key, text, chatAssociatedData(sender));
  // #endregion focus
  return encodeClientFrame({ type: 'chat', box });
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
 * Turns a decoded server frame into the line the user sees.
 *
 * @param key - the room key
 * @param frame - a frame that passed `decodeServerFrame` (a `ping` is answered, never shown)
 * @returns the line to print
 *
 * @example
 * ```ts
 * renderServerFrame(key, { type: 'joined', who: 'bob', online: 2 });
 * //=> { kind: 'notice', text: '* bob joined (2 online)' }
 * renderServerFrame(key, { type: 'who', count: 2345, online: ['alice', 'bob'] });
 * //=> { kind: 'notice', text: '* 2,345 online: alice, bob, … and 2,343 more' }
 * ```
 */
export function renderServerFrame(key: Uint8Array, frame: ShownFrame): Rendered {
  const safe = sanitizeForTerminal;
  switch (frame.type) {
    case 'chat':
      try {
        // #region ad
        // #region focus
        const text = openText(key, frame.box, chatAssociatedData(frame.from));
        // #endregion focus
        // #endregion ad
        return { kind: 'chat', text: `${safe(frame.from)}: ${safe(text)}` };
      } catch (err) {
        if (!isChatError(err, 'DECRYPT_FAILED')) throw err;
        return {
          kind: 'warning',
          text: `! message labelled ${safe(frame.from)} failed authentication (forged sender, tampered or wrong key) — not shown`,
        };
      }
    case 'welcome':
      return {
        kind: 'notice',
        text: `* logged in as ${safe(frame.user)}; ${onlineList(frame.count, frame.online)}`,
      };
    case 'who':
      return { kind: 'notice', text: `* ${onlineList(frame.count, frame.online)}` };
    case 'joined':
      return { kind: 'notice', text: `* ${safe(frame.who)} joined (${frame.online} online)` };
    case 'left':
      return { kind: 'notice', text: `* ${safe(frame.who)} left (${frame.online} online)` };
    case 'bye':
      return { kind: 'notice', text: `* server says goodbye: ${safe(frame.reason)}` };
    case 'hello':
      return { kind: 'warning', text: '! unexpected hello from the server (ignored)' };
    case 'error':
      return { kind: 'warning', text: `! ${frame.code}: ${safe(frame.message)}` };
  }
}

// "3 online: alice, bob, carol", or with more online than a frame lists,
// "2,345 online: alice, bob, … and 2,343 more".
function onlineList(count: number, listed: readonly string[]): string {
  const parts = listed.map(sanitizeForTerminal);
  // A server that lists more than it counts is wrong; show what it listed.
  const more = count - listed.length;
  if (more > 0) parts.push(`… and ${more.toLocaleString('en-US')} more`);
  const total = count.toLocaleString('en-US');
  return parts.length === 0 ? `${total} online` : `${total} online: ${parts.join(', ')}`;
}
