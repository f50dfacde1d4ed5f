/**
 * The stage 3 command language: what a client may send, and how errors look.
 *
 * One line, one command, so `nc` is a complete client:
 * - `ping` is answered with `pong` at once: it costs the server nothing, so how
 *   long it takes to come back measures how free the event loop is;
 * - `hash PASSWORD` is answered with a bcrypt hash of everything after the
 *   first space: deliberately expensive CPU work;
 * - anything else is answered with an error line, `! CODE: explanation`, and
 *   the connection stays open.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';

/** bcrypt reads only the first 72 bytes of a password; longer ones are refused, never truncated. */
export const MAX_PASSWORD_BYTES = 72;

/** `ping`: answered with `pong` at once. */
export interface PingCommand {
  /** Which command this is. */
  kind: 'ping';
}

/** `hash PASSWORD`: answered with a bcrypt hash of the password. */
export interface HashCommand {
  /** Which command this is. */
  kind: 'hash';
  /** Everything after `hash `, spaces included. */
  password: string;
}

/** A command the server understands. */
export type Command = PingCommand | HashCommand;

const USAGE = 'commands: "ping", "hash PASSWORD"';

/**
 * Parses one received line.
 *
 * @param text - a decoded frame
 * @returns the command; `null` for a blank line (ignored, so an extra Enter in
 *   `nc` is harmless); or a {@link ChatError} to send back as an error line
 * @example
 * ```ts
 * parseCommand('hash correct horse'); //=> { kind: 'hash', password: 'correct horse' }
 * parseCommand('ping');               //=> { kind: 'ping' }
 * parseCommand('dance').code;         //=> 'BAD_FRAME'
 * ```
 */
export function parseCommand(text: string): Command | ChatError | null {
  if (text.trim() === '') return null;
  if (text.trimEnd() === 'ping') return { kind: 'ping' };
  if (text.startsWith('hash ') && text.length > 'hash '.length) {
    const password = text.slice('hash '.length);
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
      return new ChatError(
        'BAD_PASSWORD',
        `password longer than ${MAX_PASSWORD_BYTES} UTF-8 bytes (bcrypt would silently truncate it)`,
      );
    }
    return { kind: 'hash', password };
  }
  if (text.trim() === 'hash') return new ChatError('BAD_FRAME', `missing password; ${USAGE}`);
  return new ChatError('BAD_FRAME', `unknown command; ${USAGE}`);
}

/**
 * Formats an error for the wire: `! CODE: message`. The `!` makes error lines
 * easy to spot (a hash starts with `$`, a pong is `pong`), and the code is the
 * stable part that programs match on.
 *
 * @param error - the error to report
 * @returns the line's text, without the newline
 */
export function errorLine(error: ChatError): string {
  return `! ${error.code}: ${error.message}`;
}
