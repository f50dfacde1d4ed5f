/**
 * Typed errors with stable codes.
 *
 * Introduced by stage 2, grown by every later stage. A client, a test or a log
 * line should never have to parse an English sentence to know what went wrong:
 * each failure carries a `code` from one closed list, and the list below is the
 * single source for the error-code reference in the docs.
 *
 * @module
 */

/**
 * Every error code the project can produce, with the one sentence the docs show.
 * Codes are part of the wire protocol from stage 4 on: never rename one.
 */
export const ERROR_CODES: Readonly<Record<ChatErrorCode, string>> = {
  BAD_ARGUMENT: 'A command-line option or environment variable has an invalid value.',
  FRAME_TOO_LARGE:
    'A line was longer than the maximum frame length; it was rejected, not truncated.',
  BAD_UTF8: 'A frame was not valid UTF-8 text.',
  BAD_FRAME:
    'A frame could not be parsed or did not match the protocol (bad JSON, unknown type, missing, extra or mistyped fields).',
  SLOW_CONSUMER:
    'A client stopped reading and its output queue passed the cap, so the server disconnected it.',
  DECRYPT_FAILED:
    'A ciphertext failed authentication: tampered, truncated, garbage, or sealed with another key.',
  KEY_MISSING: 'No key file was found; run `npm run keygen` to create one.',
  BAD_KEY: 'A key file exists but does not hold a valid 32-byte key.',
  KEY_EXISTS: 'A key file already exists; pass --force to replace it.',
  AUTH_FAILED: 'The username or password is wrong (the server does not say which).',
  NAME_TAKEN: 'Registration failed because the username is already registered.',
  BAD_USERNAME: 'The username is empty, too long or uses characters outside the allowed set.',
  BAD_PASSWORD:
    'The password is too short or longer than 72 UTF-8 bytes (bcrypt would silently truncate it).',
  ALREADY_LOGGED_IN: 'That user is already logged in on another connection.',
  NOT_LOGGED_IN: 'The frame needs a logged-in connection.',
  LOGIN_TIMEOUT: 'The connection did not log in before the deadline and was closed.',
  RATE_LIMITED: 'Too many failed logins from this address or for this user; wait and try again.',
  SERVICE_UNAVAILABLE:
    'The user database or the hashing workers are unavailable or overloaded; try again shortly.',
  SHUTTING_DOWN: 'The server is shutting down.',
  LISTEN_FAILED:
    'The server could not listen on the requested address (the port is in use, or the address is not on this machine).',
  CONNECT_FAILED:
    'The client could not connect (nothing is listening there, or the host is unreachable).',
  TOO_MANY_CONNECTIONS:
    'The server, or this address, has as many connections open as it allows; try again later.',
  TOO_MANY_ERRORS: 'The connection sent too many bad frames too quickly, so the server closed it.',
  IDLE_TIMEOUT:
    'The connection sent nothing for too long (not even an answer to a ping), so the server closed it.',
};

/**
 * One of the stable error codes. {@link ERROR_CODES} gives each one's meaning;
 * TypeScript checks that the two lists name exactly the same codes.
 */
export type ChatErrorCode =
  | 'BAD_ARGUMENT'
  | 'FRAME_TOO_LARGE'
  | 'BAD_UTF8'
  | 'BAD_FRAME'
  | 'SLOW_CONSUMER'
  | 'DECRYPT_FAILED'
  | 'KEY_MISSING'
  | 'BAD_KEY'
  | 'KEY_EXISTS'
  | 'AUTH_FAILED'
  | 'NAME_TAKEN'
  | 'BAD_USERNAME'
  | 'BAD_PASSWORD'
  | 'ALREADY_LOGGED_IN'
  | 'NOT_LOGGED_IN'
  | 'LOGIN_TIMEOUT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'LISTEN_FAILED'
  | 'CONNECT_FAILED'
  | 'TOO_MANY_CONNECTIONS'
  | 'TOO_MANY_ERRORS'
  | 'IDLE_TIMEOUT';

/**
 * An error with a stable {@link ChatErrorCode}. Throw it (or return it) for any
 * failure caused by input from outside the process; code that handles it
 * switches on `code`, never on `message`.
 *
 * @example
 * ```ts
 * const err = new ChatError('FRAME_TOO_LARGE', 'line longer than 4096 bytes');
 * err.code; //=> 'FRAME_TOO_LARGE'
 * ```
 */
export class ChatError extends Error {
  /** The stable code; safe to show to users and to match on in code. */
  readonly code: ChatErrorCode;

  /**
   * @param code - the stable code
   * @param message - a human-readable explanation (no secrets, no message plaintext)
   */
  constructor(code: ChatErrorCode, message: string) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
  }
}

/**
 * Whether `value` is a {@link ChatError}, optionally with a given code.
 *
 * @param value - anything caught in a `catch`
 * @param code - when given, also require this code
 */
export function isChatError(value: unknown, code?: ChatErrorCode): value is ChatError {
  return value instanceof ChatError && (code === undefined || value.code === code);
}
