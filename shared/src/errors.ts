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

// The one list of codes: ChatErrorCode is derived from its keys and
// ERROR_CODES is this object, so a new code is one line here.
const CODES = {
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
    'The server could not listen on the requested address (the port is in use or needs privileges, the address is not on this machine, or the host name does not resolve).',
  CONNECT_FAILED:
    'The client could not connect (nothing is listening there, or the host is unreachable).',
} as const satisfies Record<string, string>;

/**
 * One of the stable error codes: a key of {@link ERROR_CODES}, which gives its meaning.
 *
 * @useDeclaredType
 */
export type ChatErrorCode = keyof typeof CODES;

/**
 * Every error code the project can produce, with the one sentence the docs show.
 * Codes are part of the wire protocol from stage 4 on: never rename one.
 */
export const ERROR_CODES: Readonly<Record<ChatErrorCode, string>> = CODES;

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
