/**
 * The login handshake, server side: from a `register` or `login` frame to an
 * authenticated username, or to one stable error code.
 *
 * The order of the checks is the lesson:
 *
 * 1. **Open the box** with the room key and AD `(v1, frame type)`: a box
 *    sealed for anything else fails with `DECRYPT_FAILED`.
 * 2. **Check the challenge** sealed inside against the one this connection
 *    was sent, so a recorded login box cannot be replayed.
 * 3. **Validate every value** (type first: a JSON object where a string
 *    belongs is `BAD_USERNAME`, never a query).
 * 4. **Rate limit** before any expensive work: a refused guess costs no bcrypt.
 * 5. **Look up, then compare in a worker**, against a dummy hash when the user
 *    does not exist, so "no such user" and "wrong password" are the same
 *    `AUTH_FAILED` after the same time.
 * 6. **Claim the username** in the server's online table, synchronously, only
 *    once the password is known to be right: two logins racing for one
 *    account cannot both win, and a wrong password never learns whether the
 *    user is online. Unless nobody is waiting for the answer any more: the
 *    connection closed (or hit its deadline) while the password was checked,
 *    or the server began shutting down. Then the attempt is logged as
 *    abandoned, and nothing is claimed or joined.
 *
 * @module
 */
import { openText } from '../../shared/src/crypto';
import { ChatError } from '../../shared/src/errors';
import type { Logger } from '../../shared/src/logger';
import {
  validateLoginPassword,
  validateNewPassword,
  type PasswordHasher,
} from '../../shared/src/passwords';
import type { LoginRateLimiter } from '../../shared/src/rate-limit';
import { validateUsername, type UserStore } from '../../shared/src/user-store';
import { credentialsAssociatedData, parseCredentials, type AuthFrame } from './messages';

/** What the handshake needs from the server; shared by every connection. */
export interface AuthServices {
  /** The room key: it opens credential boxes. */
  key: Buffer;
  /** Registered users. */
  store: UserStore;
  /** bcrypt in worker threads. */
  hasher: PasswordHasher;
  /** Failed-login limits. */
  limiter: LoginRateLimiter;
}

/** One attempt on one connection. */
export interface AuthAttempt {
  /** The decoded `register` or `login` frame. */
  frame: AuthFrame;
  /** The challenge this connection's `hello` carried. */
  challenge: string;
  /** The client's IP address, for rate limiting. */
  ip: string;
  /** Marks the username online, atomically; false if it already was. */
  claim: (username: string) => boolean;
  /**
   * Why the connection no longer wants the answer, or `undefined` while it
   * does: `'closed'` (the client left, or the login deadline closed it) or
   * `'shutdown'` (the server is saying goodbye to everyone).
   */
  abandoned: () => 'closed' | 'shutdown' | undefined;
  /** The connection's logger. */
  log: Logger;
}

/**
 * Runs one register or login attempt to its end.
 *
 * @param services - key, store, hasher and limiter
 * @param attempt - the frame and its connection's context
 * @returns the authenticated username (now claimed as online), or
 *   `undefined` if the attempt was abandoned while the password was checked
 *   (logged as `login_abandoned` or `register_abandoned`; nothing claimed)
 * @throws ChatError `DECRYPT_FAILED`, `BAD_FRAME`, `BAD_USERNAME`,
 *   `BAD_PASSWORD`, `RATE_LIMITED`, `AUTH_FAILED`, `NAME_TAKEN`,
 *   `ALREADY_LOGGED_IN` or `SERVICE_UNAVAILABLE`
 */
export async function authenticate(
  services: AuthServices,
  attempt: AuthAttempt,
): Promise<string | undefined> {
  const { frame, log } = attempt;
  const action = frame.type;
  let username: string | undefined;
  try {
    const plaintext = openText(services.key, frame.box, credentialsAssociatedData(action));
    const credentials = parseCredentials(plaintext);
    if (credentials.challenge !== attempt.challenge) {
      throw new ChatError('AUTH_FAILED', 'credentials were not sealed for this connection');
    }
    username = validateUsername(credentials.username);
    const password =
      action === 'register'
        ? validateNewPassword(credentials.password)
        : validateLoginPassword(credentials.password);
    services.limiter.check(attempt.ip, username);
    // Only now is the attempt worth a quarter second of CPU.
    log.debug({ event: 'bcrypt', action }, 'password sent to the hashing workers');
    const name =
      action === 'register'
        ? await register(services, attempt.ip, username, password)
        : await login(services, attempt.ip, username, password);
    // The store and the hasher took their time; is anyone still waiting? A
    // "login ok" for a connection that is gone would be a false record.
    const gone = attempt.abandoned();
    if (gone !== undefined) {
      log.info({ event: `${action}_abandoned`, user: name, reason: gone }, `${action} abandoned`);
      return undefined;
    }
    if (!attempt.claim(name)) {
      throw new ChatError('ALREADY_LOGGED_IN', `${name} is already logged in elsewhere`);
    }
    log.info({ event: `${action}_ok`, user: name }, `${action} ok`);
    return name;
  } catch (err) {
    const error =
      err instanceof ChatError
        ? err
        : new ChatError('SERVICE_UNAVAILABLE', 'internal error during login');
    // The username (once validated) helps spot attacks; the password never appears.
    log.warn(
      { event: `${action}_failed`, user: username, code: error.code },
      `${action} failed: ${error.code}`,
    );
    if (!(err instanceof ChatError)) log.error({ err }, 'unexpected error during login');
    throw error;
  }
}

async function login(
  services: AuthServices,
  ip: string,
  username: string,
  password: string,
): Promise<string> {
  const user = await services.store.findUser(username);
  // No early return for an unknown user: verify() compares with a dummy hash.
  const ok = await services.hasher.verify(password, user?.passwordHash);
  if (!ok || user === undefined) {
    services.limiter.recordFailure(ip, username);
    throw new ChatError('AUTH_FAILED', 'wrong username or password');
  }
  services.limiter.recordSuccess(ip, user.username);
  return user.username;
}

async function register(
  services: AuthServices,
  ip: string,
  username: string,
  password: string,
): Promise<string> {
  const hash = await services.hasher.hash(password);
  try {
    // No "is the name free?" query first: the UNIQUE constraint decides, atomically.
    await services.store.createUser(username, hash);
  } catch (err) {
    // A taken name counts as a failure, so probing for names is rate-limited too.
    if (err instanceof ChatError && err.code === 'NAME_TAKEN') {
      services.limiter.recordFailure(ip, username);
    }
    throw err;
  }
  services.limiter.recordSuccess(ip, username);
  return username;
}
