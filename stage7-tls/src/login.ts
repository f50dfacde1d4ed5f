/**
 * The login, server side: from a `register`, `login` or `resume` frame to an
 * authenticated username, or to one stable error code.
 *
 * The order of the checks is stage 6's, minus the box: TLS already kept the
 * frame private and bound it to this connection.
 *
 * 1. **Validate every value** (a bad name is `BAD_USERNAME`, never a query).
 * 2. **Take the permits** before any work, synchronously: a rate-limit token
 *    (`RATE_LIMITED`), then, for a password, a place in the hashing queue
 *    (`SERVICE_UNAVAILABLE` with `retryAfterMs` when it would not be answered
 *    in time).
 * 3. **Check the secret**: the password in a bcrypt worker (against a dummy
 *    hash for an unknown user), or the ticket's MAC (microseconds, no
 *    worker). A refused ticket costs a rate-limit token like a wrong
 *    password, so guessing tickets is no cheaper than guessing passwords.
 * 4. **Claim the name** in the online table, unless the connection is gone
 *    or the server is shutting down.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import type { LogSampler } from '../../shared/src/log-sampler';
import type { Logger } from '../../shared/src/logger';
import { isStaleTicket, type LoginTickets } from '../../shared/src/login-ticket';
import {
  validateLoginPassword,
  validateNewPassword,
  type PasswordHasher,
} from '../../shared/src/passwords';
import {
  settleDropped,
  type LoginPermit,
  type LoginRateLimiter,
} from '../../shared/src/rate-limit';
import { RetryAfterError } from '../../shared/src/retry-after';
import { validateUsername, type UserStore } from '../../shared/src/user-store';
import type { LoginFrame } from './messages';

/** What a login needs from the server; shared by every connection. */
export interface LoginServices {
  /** Registered users. */
  store: UserStore;
  /** bcrypt in worker threads. */
  hasher: PasswordHasher;
  /** Login and registration limits. */
  limiter: LoginRateLimiter;
  /** Issues and checks resumption tickets. */
  tickets: LoginTickets;
  /** Failures anyone can cause at no cost are logged through it. */
  sampler: LogSampler;
}

/** One attempt on one connection. */
export interface LoginAttempt {
  /** The decoded frame. */
  frame: LoginFrame;
  /** The client's address group (IPv6 by /64). */
  ip: string;
  /** Milliseconds left before the connection's login deadline. */
  budgetMs: number;
  /** Aborted when the connection closes. */
  signal: AbortSignal;
  /** Marks the name online, atomically; false if it already was. */
  claim: (username: string) => boolean;
  /** Why nobody waits for the answer any more, or `undefined` while someone does. */
  abandoned: () => 'closed' | 'shutdown' | undefined;
  /** The connection's logger. */
  log: Logger;
}

/**
 * Runs one attempt to its end.
 *
 * @param services - store, hasher, limiter, tickets
 * @param attempt - the frame and its connection
 * @returns the username, now claimed online; `undefined` if the attempt was
 *   abandoned (nothing claimed)
 * @throws ChatError `BAD_USERNAME`, `BAD_PASSWORD`, `RATE_LIMITED`,
 *   `AUTH_FAILED`, `NAME_TAKEN`, `TICKET_INVALID`, `ALREADY_LOGGED_IN` or
 *   `SERVICE_UNAVAILABLE` (never naming an internal cause)
 */
export async function logIn(
  services: LoginServices,
  attempt: LoginAttempt,
): Promise<string | undefined> {
  const { frame, log } = attempt;
  const action = frame.type;
  let username: string | undefined;
  let permit: LoginPermit | undefined;
  try {
    username = validateUsername(frame.user);
    // A resume is a login without the password: it uses the login buckets.
    permit = services.limiter.acquire(
      attempt.ip,
      username,
      action === 'register' ? action : 'login',
    );
    const name =
      frame.type === 'resume'
        ? await resume(services, permit, username, frame.ticket, log)
        : await checkPassword(services, permit, attempt, username, frame.type, frame.password);
    const gone = attempt.abandoned();
    if (gone !== undefined) {
      if (services.sampler.allow(`${action}_abandoned`)) {
        log.info({ event: `${action}_abandoned`, user: name, reason: gone }, `${action} abandoned`);
      }
      return undefined;
    }
    if (!attempt.claim(name)) {
      throw new ChatError('ALREADY_LOGGED_IN', `${name} is already logged in elsewhere`);
    }
    log.info({ event: `${action}_ok`, user: name }, `${action} ok`);
    return name;
  } catch (err) {
    if (attempt.signal.aborted && err === attempt.signal.reason) {
      // Dropped unrun: if the client left, it pays what a wrong guess pays.
      settleDropped(permit, err);
      const reason = attempt.abandoned() ?? 'closed';
      // Sampled, as every line a client can cause at will.
      if (services.sampler.allow(`${action}_abandoned`)) {
        log.info({ event: `${action}_abandoned`, user: username, reason }, `${action} abandoned`);
      }
      return undefined;
    }
    const error = forClient(err);
    const reason = error !== err && err instanceof Error ? err.message : undefined;
    // (A refused ticket's own line, `ticket_refused`, is written in resume().)
    const costly = ['AUTH_FAILED', 'NAME_TAKEN', 'ALREADY_LOGGED_IN'];
    if (costly.includes(error.code) || services.sampler.allow(`${action}_failed:${error.code}`)) {
      log.warn(
        { event: `${action}_failed`, user: username, code: error.code, reason },
        `${action} failed: ${error.code}`,
      );
    }
    if (!(err instanceof ChatError)) log.error({ err }, 'unexpected error during login');
    throw error;
  } finally {
    permit?.cancelled(); // a no-op once the attempt was settled
  }
}

async function checkPassword(
  services: LoginServices,
  permit: LoginPermit,
  attempt: LoginAttempt,
  username: string,
  action: 'login' | 'register',
  given: string,
): Promise<string> {
  const password =
    action === 'register' ? validateNewPassword(given) : validateLoginPassword(given);
  const place = services.hasher.reserve({
    kind: action,
    client: attempt.ip,
    budgetMs: attempt.budgetMs,
    signal: attempt.signal,
  });
  try {
    if (action === 'register') {
      const hash = await place.hash(password);
      try {
        await services.store.createUser(username, hash);
      } catch (err) {
        if (err instanceof ChatError && err.code === 'NAME_TAKEN') permit.failed();
        throw err;
      }
      permit.succeeded();
      return username;
    }
    const user = await services.store.findUser(username);
    const ok = await place.verify(password, user?.passwordHash); // dummy hash when unknown
    if (!ok || user === undefined) {
      permit.failed();
      throw new ChatError('AUTH_FAILED', 'wrong username or password');
    }
    permit.succeeded();
    return user.username;
  } finally {
    place.release();
  }
}

// The store is still asked, though no password is checked: an account
// deleted since the ticket was issued cannot come back with it. (Names are
// exact here, as for a password login: `Alice` is not `alice`.)
async function resume(
  services: LoginServices,
  permit: LoginPermit,
  username: string,
  ticket: string,
  log: Logger,
): Promise<string> {
  const check = services.tickets.verify(ticket, username);
  const user = check.ok ? await services.store.findUser(username) : undefined;
  if (user === undefined) {
    // The reason is for the log; the client only learns "log in again". A
    // stale ticket (expired, or its key replaced) costs nothing, and its
    // line is sampled; any other refusal is a wrong guess (isStaleTicket).
    const reason = check.ok ? 'no-such-user' : check.reason;
    const stale = !check.ok && isStaleTicket(check.reason);
    if (stale) permit.cancelled();
    else permit.failed();
    if (!stale || services.sampler.allow('ticket_refused:stale')) {
      log.info({ event: 'ticket_refused', user: username, reason }, 'ticket refused');
    }
    throw new ChatError(
      'TICKET_INVALID',
      'the login ticket was not accepted; log in with your password',
    );
  }
  permit.succeeded();
  return user.username;
}

// Our own refusals pass through; an internal failure (database, worker, bug)
// becomes "try again later": its cause is for the log only.
function forClient(err: unknown): ChatError {
  if (err instanceof RetryAfterError) return err;
  if (err instanceof ChatError && err.code !== 'SERVICE_UNAVAILABLE') return err;
  return new ChatError(
    'SERVICE_UNAVAILABLE',
    'the server cannot check logins right now; try again later',
  );
}
