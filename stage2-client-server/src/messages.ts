/**
 * Stage 2's message vocabulary: what travels on the wire, one line each.
 *
 * Client to server: one line of text is one message. An empty line is not a
 * message (pressing Enter twice in `nc` should not use up a turn).
 *
 * Server to client, three kinds of line, told apart by how they start:
 *
 * | line                               | kind     | meaning                                  |
 * | ---------------------------------- | -------- | ---------------------------------------- |
 * | `127.0.0.1:5050: hi there`         | reply    | the server's answer; your turn again     |
 * | `* you are 127.0.0.1:54012; ...`   | notice   | information from the server program      |
 * | `! FRAME_TOO_LARGE: line longer…`  | error    | your last line was refused, with a code  |
 *
 * A reply always starts with the sender's `ip:port`, so a reply whose text
 * happens to begin with `* ` or `! ` can never pass for a notice or an error.
 * Stage 4 keeps exactly these shapes and adds more senders. Every line is
 * framed by `encodeFrame` from shared/src/framing.ts: nothing here writes
 * bytes.
 *
 * @module
 */
import { ERROR_CODES, type ChatErrorCode } from '../../shared/src/errors';

/** One line from the server, parsed. */
export type ServerLine =
  | {
      /** The server's answer to the client's line: the client's turn again. */
      kind: 'reply';
      /** Who answered: the server's `ip:port`. */
      from: string;
      /** The answer. */
      text: string;
    }
  | {
      /** Information from the server program (a welcome, "server busy"). */
      kind: 'notice';
      /** The information. */
      text: string;
    }
  | {
      /** The client's last line was refused, or the server is shutting down. */
      kind: 'error';
      /** The stable code. */
      code: ChatErrorCode;
      /** A sentence for people. */
      message: string;
    };

/**
 * Writes a server line as text (without the newline; `encodeFrame` adds it).
 *
 * @param line - the line to send
 *
 * @example
 * ```ts
 * formatServerLine({ kind: 'reply', from: '127.0.0.1:5050', text: 'hi' }); //=> '127.0.0.1:5050: hi'
 * formatServerLine({ kind: 'notice', text: 'welcome' });                    //=> '* welcome'
 * ```
 */
export function formatServerLine(line: ServerLine): string {
  switch (line.kind) {
    case 'reply':
      return `${line.from}: ${line.text}`;
    case 'notice':
      return `* ${line.text}`;
    case 'error':
      return `! ${line.code}: ${line.message}`;
  }
}

/**
 * Reads a line the server sent. Returns `null` for a line that fits none of
 * the three shapes (a client should show it, not trust it).
 *
 * @param text - one decoded frame
 *
 * @example
 * ```ts
 * parseServerLine('[::1]:5050: hi');        //=> { kind: 'reply', from: '[::1]:5050', text: 'hi' }
 * parseServerLine('! BAD_UTF8: not UTF-8'); //=> { kind: 'error', code: 'BAD_UTF8', message: 'not UTF-8' }
 * ```
 */
export function parseServerLine(text: string): ServerLine | null {
  if (text.startsWith('* ')) return { kind: 'notice', text: text.slice(2) };
  if (text.startsWith('! ')) {
    const match = /^! ([A-Z0-9_]+): (.*)$/s.exec(text);
    if (match === null || !isErrorCode(match[1]!)) return null;
    return { kind: 'error', code: match[1], message: match[2]! };
  }
  // The sender is everything before the first ": ". An address never holds
  // ": " (IPv6 colons are never followed by a space), so this split is exact.
  const colon = text.indexOf(': ');
  if (colon <= 0) return null;
  return { kind: 'reply', from: text.slice(0, colon), text: text.slice(colon + 2) };
}

function isErrorCode(code: string): code is ChatErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/**
 * Names one end of a connection as `ip:port` for people to read. An
 * IPv4-mapped address (`::ffff:127.0.0.1`, see stage 1) is shown as the
 * plain IPv4 address it stands for; IPv6 addresses get brackets.
 *
 * @param address - the address Node reports (`remoteAddress`, `localAddress`)
 * @param port - the matching port
 *
 * @example
 * ```ts
 * peerName('::ffff:127.0.0.1', 54012); //=> '127.0.0.1:54012'
 * peerName('::1', 5050);               //=> '[::1]:5050'
 * ```
 */
export function peerName(address: string | undefined, port: number | undefined): string {
  const ip = (address ?? '?').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return ip.includes(':') ? `[${ip}]:${port ?? '?'}` : `${ip}:${port ?? '?'}`;
}
