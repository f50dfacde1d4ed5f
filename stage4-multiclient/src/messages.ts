/**
 * Stage 4's message vocabulary: every line the server sends, as text.
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
 *
 * @module
 */
import type { ChatError } from '../../shared/src/errors';

/**
 * A chat message as the other clients see it.
 *
 * @param sender - the sender's label, assigned by the server (never by the client)
 * @param text - what the sender typed
 */
export function chatLine(sender: string, text: string): string {
  return `${sender}: ${text}`;
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
