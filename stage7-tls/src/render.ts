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
    case 'presence':
      return { kind: 'notice', text: `* ${presenceLine(frame)} (${frame.online} online)` };
    case 'bye':
      return { kind: 'notice', text: `* server says goodbye: ${safe(frame.reason)}` };
    case 'error':
      return { kind: 'warning', text: `! ${frame.code}: ${safe(frame.message)}` };
  }
}

// "bob, carol and 3 more joined; dave left": the names sent, then the rest as a count.
function presenceLine(frame: Extract<ShownFrame, { type: 'presence' }>): string {
  const parts: string[] = [];
  for (const [names, count, verb] of [
    [frame.joined, frame.joinedCount, 'joined'],
    [frame.left, frame.leftCount, 'left'],
  ] as const) {
    if (count === 0 && names.length === 0) continue;
    const listed = names.map((name) => safe(name));
    const more = count - names.length;
    if (more > 0) listed.push(`${more.toLocaleString('en-US')} more`);
    const last = listed.pop();
    parts.push(
      listed.length === 0 ? `${last} ${verb}` : `${listed.join(', ')} and ${last} ${verb}`,
    );
  }
  return parts.join('; ');
}

function onlineList(count: number, listed: readonly string[]): string {
  const parts = listed.map((name) => safe(name));
  const more = count - listed.length;
  if (more > 0) parts.push(`… and ${more.toLocaleString('en-US')} more`);
  const total = count.toLocaleString('en-US');
  return parts.length === 0 ? `${total} online` : `${total} online: ${parts.join(', ')}`;
}
