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
  KEY_MISSING:
    'No key file was found: for the room key run `npm run keygen`; for a stage 8 identity, `--register` (new account) or `--new-keys` (existing one).',
  BAD_KEY: 'A key file exists but does not hold a valid 32-byte key.',
  KEY_EXISTS: 'A key file already exists; pass --force to replace it.',
  AUTH_FAILED: 'The username or password is wrong (the server does not say which).',
  NAME_TAKEN: 'Registration failed because the username is already registered.',
  BAD_USERNAME: 'The username is empty, too long or uses characters outside the allowed set.',
  BAD_PASSWORD:
    'The password is too short or longer than 72 UTF-8 bytes (bcrypt would silently truncate it).',
  ALREADY_LOGGED_IN: 'That user is already logged in on another connection.',
  NOT_LOGGED_IN: 'The frame needs a logged-in connection.',
  LOGIN_TIMEOUT:
    'A login did not finish in time: the server closed a connection that had not logged in, or the client stopped waiting for an answer.',
  RATE_LIMITED:
    'Too many failed logins from this address or for this user, too many key changes for this user, or a look-up (`keys`, `who`) already in flight on this connection; wait and try again.',
  SERVICE_UNAVAILABLE:
    'The user database or the hashing workers are unavailable or overloaded; try again shortly.',
  SHUTTING_DOWN: 'The server is shutting down.',
  LISTEN_FAILED:
    'The server could not listen on the requested address (the port is in use or needs privileges, the address is not on this machine, or the host name does not resolve).',
  CONNECT_FAILED:
    'The client could not connect (nothing is listening there, or the host is unreachable).',
  TLS_REQUIRED: 'The client spoke plain text (or another protocol) to a port that speaks only TLS.',
  TLS_VERSION:
    'The peer offered only TLS versions older than 1.3; this server speaks TLS 1.3 only.',
  TLS_HANDSHAKE:
    'The TLS handshake failed for another reason (no common application protocol, a reset, a bad record).',
  KEY_CHANGED:
    'The server presented a public key other than the one pinned for it in the known-servers file; nothing was sent.',
  UNKNOWN_SERVER:
    'First contact with a server whose key is not pinned, with no terminal to ask on (pass --server-fingerprint), or the user declined it.',
  FINGERPRINT_MISMATCH:
    'The server presented a public key other than the one given with --server-fingerprint; nothing was sent.',
  CERT_INVALID:
    'Under --ca, the server certificate did not verify: expired, not issued by that CA, or not for this host name.',
  BAD_CERTIFICATE:
    'A certificate or private key file is missing, unreadable, not PEM, or the key does not match the certificate.',
  BAD_KNOWN_SERVERS: 'The known-servers file has a line that is not `HOST:PORT SHA256:…`.',
  TICKET_INVALID:
    'A resumption ticket was refused (malformed, tampered with, expired, for another user, or under a retired key): log in with the password.',
  BAD_SIGNATURE:
    'An Ed25519 signature did not verify: the data was changed, or it was not signed by the key of the member it claims to come from.',
  REPLAYED:
    'A room message counter was already used, or a sender key was for an epoch already seen: a replay, refused.',
  UNKNOWN_EPOCH:
    'A room message was sealed under a sender key (sender, epoch) this member was never given, or has already dropped.',
  MESSAGE_TOO_OLD:
    'A room message counter is below the window of skipped message keys still kept (or from before this member got the key).',
  MESSAGE_TOO_FAR_AHEAD:
    'A room message counter jumps further ahead than a receiver will ratchet for one message.',
  KEY_LOCKED:
    'The identity key file could not be unlocked: the password is wrong, or the file was altered.',
  BAD_IDENTITY_FILE:
    'The identity key file, the known-members file or the opened-counters file is not in a known format (or its scrypt parameters are out of bounds).',
  MEMBER_KEY_CHANGED:
    "A member's identity key differs from the one recorded on first use: compare safety numbers before trusting it.",
  TOO_MANY_CONNECTIONS:
    'The server, or this address, has as many connections open as it allows; try again later.',
  TOO_MANY_ERRORS: 'The connection sent too many bad frames too quickly, so the server closed it.',
  IDLE_TIMEOUT:
    'The connection sent nothing for too long (not even an answer to a ping), so the server closed it.',
  NO_KEYS:
    'The server holds no public keys for that user (never registered with stage 8 or later).',
  ROOM_SPLIT:
    'This server lost touch with the rest of the cluster: until it rejoins, messages reach only the members connected to it.',
  ROOM_REJOINED:
    'This server is back in touch with the rest of the cluster; what was said on other servers while it was cut off did not reach it.',
  MESSAGES_LOST:
    'Room messages sent on another server of the cluster never reached this one (one of the two was cut off for a moment): the conversation has a gap here.',
  LOGGED_IN_ELSEWHERE:
    'The session ended because the same user logged in on another server of the cluster while this one was cut off from it.',
  CANCELLED:
    'The person at the terminal cancelled a prompt (Ctrl-C, or Ctrl-D on an empty line); nothing was sent.',
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
