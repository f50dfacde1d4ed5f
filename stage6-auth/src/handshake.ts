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
 * 4. **Take the permits** before any expensive work, synchronously: a token
 *    from each rate-limit bucket (`RATE_LIMITED` if one is empty; a refused
 *    guess costs no bcrypt), then a place in the hashing queue
 *    (`SERVICE_UNAVAILABLE` with a `retryAfterMs` if it would not be
 *    answered in time). Taking them *is* the check, so thirty attempts sent
 *    at once cannot all pass it; each permit is settled with the outcome.
 * 5. **Look up, then compare in a worker**, against a dummy hash when the user
 *    does not exist, so "no such user" and "wrong password" are the same
 *    `AUTH_FAILED` after the same time.
 * 6. **Claim the username**, which is the connection's step (connection.ts),
 *    because the online table is its state: synchronously, and only once the
 *    password is known to be right, so two logins racing for one account
 *    cannot both win, and a wrong password never learns whether the user is
 *    online. Unless nobody is waiting for the answer any more: the connection
 *    closed (or hit its deadline) while the password was checked, or the
 *    server began shutting down. Then the attempt is logged as abandoned,
 *    and nothing is claimed or joined. (A job still waiting for a worker when
 *    its connection closes is dropped unrun: abandoned too, and paid for as
 *    a wrong guess if the client left, so that a login sent and abandoned,
 *    over and over, is not a free look-up.)
 *
 * This module answers with an {@link AuthResult} and never reaches back into
 * the connection: what it needs comes in the {@link AuthAttempt}, what it
 * found goes out in the result.
 *
 * @module
 */
import { openText } from '../../shared/src/crypto';
import { ChatError } from '../../shared/src/errors';
import type { LogSampler } from '../../shared/src/log-sampler';
import type { Logger } from '../../shared/src/logger';
import {
  validateLoginPassword,
  validateNewPassword,
  type PasswordHasher,
  type ReservedHash,
} from '../../shared/src/passwords';
import {
  settleDropped,
  type LoginPermit,
  type LoginRateLimiter,
} from '../../shared/src/rate-limit';
import { RetryAfterError } from '../../shared/src/retry-after';
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
  /** Login and registration limits. */
  limiter: LoginRateLimiter;
  /** Failures anyone can cause at no cost (a refusal by a limit) are logged through it. */
  sampler: LogSampler;
}

/** One attempt on one connection. */
export interface AuthAttempt {
  /** The decoded `register` or `login` frame. */
  frame: AuthFrame;
  /** The challenge this connection's `hello` carried. */
  challenge: string;
  /** The client's address group (IPv6 by /64), for rate limits and the hashing queue. */
  ip: string;
  /** Milliseconds left before the connection's login deadline. */
  budgetMs: number;
  /** Aborted when the connection closes: a hashing job still waiting is dropped. */
  signal: AbortSignal;
  /** The connection's logger. */
  log: Logger;
}

/**
 * How an attempt ended. Only `verified` lets anyone in, and even then the
 * caller has two checks of its own to make (is anyone still waiting for the
 * answer? is the user online elsewhere?) before it claims the name.
 *
 * - `verified`: the password is right (or the account was created); `user`
 *   is the canonical username. Nothing is claimed yet.
 * - `refused`: the coded error to send, already logged; `user` once the
 *   username was valid.
 * - `dropped`: the signal aborted while the job waited for a worker, so no
 *   password was tested (and nothing is logged here: the caller, who
 *   aborted, knows why).
 */
export type AuthResult =
  | {
      /** The password is right, or the account was created. */
      status: 'verified';
      /** The canonical username (not claimed yet). */
      user: string;
    }
  | {
      /** Refused, and logged. */
      status: 'refused';
      /** What to send the client. */
      error: ChatError;
      /** The username, once it was found valid. */
      user?: string;
    }
  | {
      /** The signal aborted while the job waited: no password was tested. */
      status: 'dropped';
      /** The username of the attempt. */
      user: string;
    };

/**
 * Runs one register or login attempt to its end: steps 1 to 5 above. Step
 * 6, the claim, is the caller's: only it knows whether the connection still
 * wants the answer, and the online table is its state, not the handshake's.
 *
 * @param services - key, store, hasher and limiter
 * @param attempt - the frame and its connection's context
 * @returns the verified user, the refusal (`DECRYPT_FAILED`, `BAD_FRAME`,
 *   `BAD_USERNAME`, `BAD_PASSWORD`, `RATE_LIMITED`, `AUTH_FAILED`,
 *   `NAME_TAKEN` or `SERVICE_UNAVAILABLE`, whose message never names an
 *   internal cause; a busy server's carries a `retryAfterMs`), or that the
 *   job was dropped unrun. Never throws.
 */
export async function authenticate(
  services: AuthServices,
  attempt: AuthAttempt,
): Promise<AuthResult> {
  const { frame, log } = attempt;
  const action = frame.type;
  let username: string | undefined;
  let permit: LoginPermit | undefined;
  let place: ReservedHash | undefined;
  try {
    const plaintext = openCredentials(services.key, frame, action);
    const credentials = parseCredentials(plaintext);
    if (credentials.challenge !== attempt.challenge) {
      throw new ChatError('AUTH_FAILED', 'credentials were not sealed for this connection');
    }
    username = validateUsername(credentials.username);
    const password =
      action === 'register'
        ? validateNewPassword(credentials.password)
        : validateLoginPassword(credentials.password);
    // #region permits
    // Both taken here, before the first await: the rate limit first (a
    // refused guess needs no place in the queue), then the place.
    permit = services.limiter.acquire(attempt.ip, username, action);
    place = services.hasher.reserve({
      kind: action,
      client: attempt.ip,
      budgetMs: attempt.budgetMs,
      signal: attempt.signal,
    });
    // #endregion permits
    const user =
      action === 'register'
        ? await register(services, place, permit, username, password, log)
        : await login(services, place, permit, username, password, log);
    return { status: 'verified', user };
  } catch (err) {
    if (username !== undefined && attempt.signal.aborted && err === attempt.signal.reason) {
      // The connection went away while the job waited for a worker: it was
      // dropped unrun. If the client left, that costs what a wrong guess does.
      settleDropped(permit, err);
      return { status: 'dropped', user: username };
    }
    const error = forClient(err);
    logFailure(services, log, action, error, username, err);
    return { status: 'refused', error, user: username };
  } finally {
    // Whatever happened, nothing stays reserved: an attempt that never tested
    // a password (the store failed, the client left) gets its tokens back.
    permit?.cancelled();
    place?.release();
  }
}

/**
 * Logs a refused attempt as `register_failed` or `login_failed`. The username
 * (once validated) helps spot attacks; the password never appears. The
 * connection calls it too, for the one refusal it decides itself
 * (`ALREADY_LOGGED_IN`).
 *
 * @param services - its sampler thins out refusals that cost nothing
 * @param log - the connection's logger
 * @param action - `register` or `login`
 * @param error - what the client is told
 * @param username - the validated username, if it got that far
 * @param cause - what was thrown, when it is not `error` itself: logged, never sent
 */
export function logFailure(
  services: AuthServices,
  log: Logger,
  action: AuthFrame['type'],
  error: ChatError,
  username: string | undefined,
  cause: unknown = error,
): void {
  // The internal cause of a SERVICE_UNAVAILABLE is logged here, and only
  // here: the client hears "try again later".
  const reason = error !== cause && cause instanceof Error ? cause.message : undefined;
  // A wrong password or a taken name spent a rate-limit token: always worth
  // a line. Refusals that cost nothing (a limit said no, a bad box) could
  // be sent by the thousand: the first of each kind per interval, then a count.
  const costly = ['AUTH_FAILED', 'NAME_TAKEN', 'ALREADY_LOGGED_IN'].includes(error.code);
  if (costly || services.sampler.allow(`${action}_failed:${error.code}`)) {
    log.warn(
      { event: `${action}_failed`, user: username, code: error.code, reason },
      `${action} failed: ${error.code}`,
    );
  }
  if (!(cause instanceof ChatError)) log.error({ err: cause }, 'unexpected error during login');
}

// Step 1. A box that does not open at login is almost always a key file
// from another room (or another checkout), so the answer says that, rather
// than "authentication failed", which a person reads as a wrong password.
function openCredentials(key: Buffer, frame: AuthFrame, action: AuthFrame['type']): string {
  try {
    return openText(key, frame.box, credentialsAssociatedData(action));
  } catch (err) {
    if (!(err instanceof ChatError) || err.code !== 'DECRYPT_FAILED') throw err;
    throw new ChatError(
      'DECRYPT_FAILED',
      `your ${action} could not be opened: is your key file the room key of this server?`,
    );
  }
}

// What the client is told. Our own refusals pass through; an internal
// failure (the database, a worker, a bug) becomes a plain "try again later":
// driver codes and host names are for the log, not for whoever connects.
function forClient(err: unknown): ChatError {
  if (err instanceof RetryAfterError) return err; // busy: its message is ours
  if (err instanceof ChatError && err.code !== 'SERVICE_UNAVAILABLE') return err;
  return new ChatError(
    'SERVICE_UNAVAILABLE',
    'the server cannot check passwords right now; try again later',
  );
}

async function login(
  services: AuthServices,
  place: ReservedHash,
  permit: LoginPermit,
  username: string,
  password: string,
  log: Logger,
): Promise<string> {
  const user = await services.store.findUser(username);
  // Only now is the attempt worth a quarter second of CPU.
  log.debug({ event: 'bcrypt', action: 'login' }, 'password sent to the hashing workers');
  // No early return for an unknown user: verify() compares with a dummy hash.
  const ok = await place.verify(password, user?.passwordHash);
  if (!ok || user === undefined) {
    permit.failed();
    throw new ChatError('AUTH_FAILED', 'wrong username or password');
  }
  permit.succeeded();
  return user.username;
}

async function register(
  services: AuthServices,
  place: ReservedHash,
  permit: LoginPermit,
  username: string,
  password: string,
  log: Logger,
): Promise<string> {
  log.debug({ event: 'bcrypt', action: 'register' }, 'password sent to the hashing workers');
  const hash = await place.hash(password);
  try {
    // No "is the name free?" query first: the UNIQUE constraint decides, atomically.
    await services.store.createUser(username, hash);
  } catch (err) {
    // A taken name counts as a failure, so probing for names is rate-limited too.
    if (err instanceof ChatError && err.code === 'NAME_TAKEN') permit.failed();
    throw err;
  }
  permit.succeeded();
  return username;
}
