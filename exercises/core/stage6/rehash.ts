// Stage 6: rehash on login when the configured bcrypt cost rises.
//
//   npm run exercise -- stage6/rehash     checks this file, with real bcrypt
//
// The bcrypt cost is a knob you turn up as computers get faster (12 today,
// 13 in a few years). Turning it up changes only NEW hashes: every stored
// hash keeps the cost it was made with, which is written inside it
// ("$2b$12$..." is cost 12). And a hash cannot be upgraded on its own, since
// the server does not know the password. Except at one moment: right after a
// successful login, when the user has just typed it.
//
// The task: write checkPassword() below, with bcryptjs (imported for you):
// bcrypt.compare(password, hash), bcrypt.hash(password, cost) and
// bcrypt.getRounds(hash), the cost a hash was made with.
// 1. Look the user up (deps.findHash). No such user: false. (stage6/core
//    is where the dummy hash is the lesson; here it is left out.)
// 2. Compare the password with the stored hash. Wrong: false, and NOTHING is
//    saved: hashing and storing a password that did not match would let
//    anyone who guesses a username replace its password.
// 3. Right, and the stored hash's cost is below deps.cost: hash the password
//    again at deps.cost (bcrypt.hash makes a fresh salt), store it with
//    deps.saveHash, and wait for the save before returning true, so the next
//    login finds the new hash.
// 4. Right, and the cost is already deps.cost or more: return true and save
//    nothing. Never lower a cost (a cost turned down by mistake must not
//    quietly weaken every hash it meets), and never rehash on every login
//    (each one would cost a second bcrypt).
// 5. If the save fails (the database refused the UPDATE), the login still
//    succeeds: the password was right, and the upgrade waits for the next
//    login. The error must not escape, neither thrown nor unhandled.
//
// In the course's MySQL setup this needs one more grant for the app account:
// UPDATE on the password_hash column, and on nothing else (least privilege).
// The reference solution is exercises/solutions/stage6/rehash.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import bcrypt from 'bcryptjs';

/** What a login with rehashing needs. */
export interface RehashDeps {
  /** The user's stored bcrypt hash, or `undefined` if there is no such user. */
  findHash(username: string): Promise<string | undefined>;
  /** Replaces the user's stored hash (an UPDATE of one column). */
  saveHash(username: string, hash: string): Promise<void>;
  /** The bcrypt cost new hashes are made with: the server's configured cost. */
  cost: number;
}

/**
 * Checks a password and, when it is right and its stored hash is weaker than
 * the configured cost, replaces that hash with a stronger one.
 *
 * @param deps - the store and the configured cost
 * @param username - the name typed
 * @param password - the password typed
 * @returns true if the password is right
 */
export async function checkPassword(
  deps: RehashDeps,
  username: string,
  password: string,
): Promise<boolean> {
  throw new Error('checkPassword is not written yet');
}
