/**
 * What the stage 2 server reports as it works: who connected, who is
 * waiting, each line and reply, who left.
 *
 * The operator's console prints these (`OperatorConsole`), and the tests
 * wait for them instead of sleeping: "bob is waiting in line" is an event a
 * test can await, "probably waiting by now" is not.
 *
 * @module
 */
import type { ChatErrorCode } from '../../shared/src/errors';

/**
 * Something the server did, for the operator's screen and for tests. Every
 * event names the client (`peer`, its `ip:port`); `type` says what happened.
 */
export type ServerEvent =
  | {
      /** A client connected. */
      type: 'connected';
      /** The client's `ip:port`. */
      peer: string;
      /** How many clients are before it in line; 0 means it is served now. */
      ahead: number;
    }
  | {
      /** The server started its conversation with this client. */
      type: 'serving';
      /** The client's `ip:port`. */
      peer: string;
      /** How many clients are still waiting behind it. */
      waiting: number;
    }
  | {
      /** The client sent a line; the server now needs a reply. */
      type: 'line';
      /** The client's `ip:port`. */
      peer: string;
      /** The line, as received (untrusted: sanitize before printing). */
      text: string;
    }
  | {
      /** The reply was sent; it is the client's turn again. */
      type: 'replied';
      /** The client's `ip:port`. */
      peer: string;
      /** The reply as sent. */
      text: string;
    }
  | {
      /** A line was refused (too long, not UTF-8); the client got an error line. */
      type: 'refused';
      /** The client's `ip:port`. */
      peer: string;
      /** Why: `FRAME_TOO_LARGE` (then disconnected) or `BAD_UTF8`. */
      code: ChatErrorCode;
    }
  | {
      /** The conversation is over: the client left or was disconnected. */
      type: 'left';
      /** The client's `ip:port`. */
      peer: string;
    }
  | {
      /** The waiting line was full, so this client was told to come back later. */
      type: 'turned-away';
      /** The client's `ip:port`. */
      peer: string;
    };
