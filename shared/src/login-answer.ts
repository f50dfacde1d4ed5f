/**
 * A deadline for the answer to a login, for the clients of stages 6 to 8.
 *
 * Introduced by stage 6. The hello and the TLS handshake had deadlines; the
 * answer to the credentials had none, so a server that took them and said
 * nothing more (a broken or hostile one, or a man in the middle in stage 6)
 * kept the client waiting for ever, silent, while lines piped into it
 * piled up in memory. Every server of the course answers a login within
 * its own deadline (30 s from the connection by default, then
 * `LOGIN_TIMEOUT`), so the client waits longer than that: a real server at
 * its defaults always speaks first. (One started with a longer
 * `--login-timeout-ms` may not: its clients then need `answerTimeoutMs`.)
 *
 * @module
 */
import { withDeadline } from './deadline';
import { ChatError } from './errors';

/** How long a client waits for the answer to its login, by default. */
export const LOGIN_ANSWER_TIMEOUT_MS = 45_000;

/**
 * Waits for the server's answer to a login, but not for ever.
 *
 * @param answer - the next frame, as the client's frame stream gives it
 * @param where - `HOST:PORT`, for the message
 * @param ms - the deadline; default {@link LOGIN_ANSWER_TIMEOUT_MS}
 * @returns what `answer` resolves with, if it does in time
 * @throws ChatError `LOGIN_TIMEOUT` once `ms` have passed without an answer
 *
 * @example
 * ```ts
 * const decoded = await loginAnswer(frames.next(), '127.0.0.1:5050');
 * ```
 */
export async function loginAnswer<T>(
  answer: Promise<T>,
  where: string,
  ms = LOGIN_ANSWER_TIMEOUT_MS,
): Promise<T> {
  try {
    return await withDeadline(answer, ms);
  } catch (err) {
    // Only the deadline's ETIMEDOUT means silence (the frame streams never
    // reject with a socket's own); anything else is passed on.
    if ((err as { code?: unknown } | undefined)?.code !== 'ETIMEDOUT') throw err;
    const seconds = ms / 1000;
    throw new ChatError(
      'LOGIN_TIMEOUT',
      `no answer to the login from ${where} within ${seconds} s`,
    );
  }
}
