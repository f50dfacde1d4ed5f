// Write the core of stage 6: the order of a login.
//
//   npm run exercise -- stage6/core     checks this file, with real bcrypt and real concurrency
//
// A login looks like three lines: find the user's hash, compare the password
// with bcrypt, say yes or no. Each of those lines, written in the obvious
// order, leaks something or can be abused. The order is the lesson:
//
// The task: write login() below. It resolves (with nothing) when the
// password is right, and otherwise rejects with a ChatError:
// 1. A password of more than 72 bytes of UTF-8 is refused with BAD_PASSWORD
//    before anything else, NEVER cut to 72: bcrypt reads only the first 72
//    bytes, so a cut password would let "the first 72 bytes + anything" in.
//    Count bytes (Buffer.byteLength), not characters: 'é' is 2 bytes.
// 2. Then take the permit: deps.limiter.take(username), synchronously,
//    before the first await. If it says no, reject with RATE_LIMITED, having
//    looked nothing up and hashed nothing. Taken any later (after the look-up,
//    or "count the failure after the compare"), twenty guesses sent at once
//    all pass before the first one is counted, and each one costs a bcrypt.
// 3. Look the user up (deps.findHash) and compare (deps.verify) exactly once,
//    also when there is no such user: compare against deps.dummyHash then,
//    and answer no whatever the comparison said. An unknown user that is
//    refused at once, without a bcrypt, tells a stopwatch who has an account.
// 4. A wrong password and an unknown user get the SAME answer: AUTH_FAILED,
//    with the same message. The token taken stays spent.
// 5. A right password gives its token back (deps.limiter.giveBack(username),
//    once): the limit counts failures, and a user who logs in every day must
//    never run out.
// 6. If no password was tested because the look-up or the compare itself
//    failed (the database is down), give the token back too, and let that
//    error through unchanged: it is not a wrong password.
//
// The course's version is stage6-auth/src/handshake.ts with
// shared/src/rate-limit.ts and shared/src/passwords.ts: read them when you
// are done. The reference solution is exercises/solutions/stage6/core.patch:
// try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import { ChatError } from '../../../shared/src/errors';

/** The longest password bcrypt reads in full, in UTF-8 bytes. */
export const MAX_PASSWORD_BYTES = 72;

/** A rate limit, one bucket of tokens per username. */
export interface Limiter {
  /** Takes one token from `key`'s bucket: true, or false (and nothing taken) if it is empty. */
  take(key: string): boolean;
  /** Puts one token back into `key`'s bucket. */
  giveBack(key: string): void;
}

/** What a login needs; the checks pass real bcrypt and a real token bucket. */
export interface LoginDeps {
  /** The user's stored bcrypt hash, or `undefined` if there is no such user. */
  findHash(username: string): Promise<string | undefined>;
  /** bcrypt's compare: true if `password` matches `hash`. The slow part (on purpose). */
  verify(password: string, hash: string): Promise<boolean>;
  /** A bcrypt hash of a random password, at the same cost as real ones, for unknown users. */
  dummyHash: string;
  /** The login rate limit. */
  limiter: Limiter;
}

/**
 * Checks one login attempt.
 *
 * @param deps - the store, bcrypt and the rate limit
 * @param username - the name typed
 * @param password - the password typed
 * @throws ChatError `BAD_PASSWORD`, `RATE_LIMITED` or `AUTH_FAILED`; or the
 *   look-up's or compare's own error, unchanged
 */
export async function login(deps: LoginDeps, username: string, password: string): Promise<void> {
  throw new Error('login is not written yet');
}
