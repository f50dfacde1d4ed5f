/**
 * The one hint a person needs after a refused login, added to the server's
 * words by the clients of stages 6 to 9.
 *
 * Introduced by stage 6. Two refusals puzzle newcomers:
 *
 * - `AUTH_FAILED`: "new here? add --register". The same words for an unknown
 *   name and a wrong password, as the server's answer is, so the hint tells
 *   nobody which names exist.
 * - `NAME_TAKEN`: stages 6 to 9 keep their accounts in the same user store
 *   (`.data/chat.sqlite` unless `CHAT_DB_URL` says otherwise), so a learner
 *   who registered alice in stage 6 meets her again in stage 7: the hint
 *   says to log in instead. (The server's answer already says the name
 *   exists; the hint gives nothing away.) Stage 8's client says to use
 *   `--new-keys` instead: a plain login there needs a key file, and an
 *   account from stage 6 or 7 has none.
 *
 * @module
 */
import { ChatError, isChatError } from './errors';

/**
 * `err` with the hint for its code, or `err` unchanged.
 *
 * @param err - what the login rejected with
 * @param ownAccount - what to do instead of `--register` when the name taken
 *   is the user's own
 * @returns the same code, with the hint after the server's message
 */
export function withLoginHint(err: unknown, ownAccount = 'log in without --register'): unknown {
  if (isChatError(err, 'AUTH_FAILED')) {
    return new ChatError('AUTH_FAILED', `${err.message}; new here? add --register`);
  }
  if (isChatError(err, 'NAME_TAKEN')) {
    return new ChatError(
      'NAME_TAKEN',
      `${err.message}; if it is yours (stages 6 to 9 share their accounts), ${ownAccount}`,
    );
  }
  return err;
}
