/**
 * What the stage 7 client shows for each frame from the server. Every string
 * that came over the network passes through `sanitizeForTerminal`: TLS
 * proves which *server* sent a frame, not that its content is harmless.
 *
 * @module
 */
import { sanitizeForTerminal as safe } from '../../shared/src/terminal';
import type { ShownFrame } from './client-login';

/** One line for the user: chat to stdout, notices and warnings to stderr. */
export interface Rendered {
  /** `chat` goes to stdout; the others to stderr. */
  kind: 'chat' | 'notice' | 'warning';
  /** The line, sanitized. */
  text: string;
}

/**
 * Turns a server frame into the line the user sees.
 *
 * @param frame - a decoded frame (`ping` and `ticket` never get here)
 *
 * @example
 * ```ts
 * renderServerFrame({ type: 'chat', from: 'bob', text: 'hi' }); //=> { kind: 'chat', text: 'bob: hi' }
 * ```
 */
export function renderServerFrame(frame: ShownFrame): Rendered {
  switch (frame.type) {
    case 'chat':
      return { kind: 'chat', text: `${safe(frame.from)}: ${safe(frame.text)}` };
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
    case 'error':
      return { kind: 'warning', text: `! ${frame.code}: ${safe(frame.message)}` };
  }
}

function onlineList(count: number, listed: readonly string[]): string {
  const parts = listed.map((name) => safe(name));
  const more = count - listed.length;
  if (more > 0) parts.push(`… and ${more.toLocaleString('en-US')} more`);
  const total = count.toLocaleString('en-US');
  return parts.length === 0 ? `${total} online` : `${total} online: ${parts.join(', ')}`;
}
