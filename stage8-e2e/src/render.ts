/**
 * What the stage 8 client shows for each notice from the server (the
 * end-to-end frames are opened by `room-client.ts`, not shown as they come). Every string
 * that came over the network passes through `sanitizeForTerminal`: TLS
 * proves which *server* sent a frame, not that its content is harmless.
 *
 * @module
 */
import { sanitizeForTerminal as safe } from '../../shared/src/terminal';
import type { FrameOf } from '../../shared/src/protocol';
import type { ShownFrame } from './client-login';
import type { E2E_CHAT_RELAY, KEYS, MEMBER, SENDER_KEY_RELAY } from './messages';

/** The frames shown as they come: everything but the end-to-end ones and key answers. */
export type NoticeFrame = Exclude<
  ShownFrame,
  | FrameOf<typeof E2E_CHAT_RELAY>
  | FrameOf<typeof SENDER_KEY_RELAY>
  | FrameOf<typeof MEMBER>
  | FrameOf<typeof KEYS>
>;

/** One line for the user: notices and warnings go to stderr. */
export interface Rendered {
  /** A notice, or a warning (a refusal, shown louder). */
  kind: 'notice' | 'warning';
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
 * renderServerFrame({ type: 'left', who: 'bob', online: 1 }); //=> { kind: 'notice', text: '* bob left (1 online)' }
 * ```
 */
export function renderServerFrame(frame: NoticeFrame): Rendered {
  switch (frame.type) {
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
