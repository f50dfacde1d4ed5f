/**
 * "No answer" without a timeout, for plain-text servers (stages 2-4).
 *
 * A check that expects an answer to a command cannot tell "not yet" from
 * "never" by waiting. So right after the command it sends a line that the
 * server always answers, on the same connection: a line with a carriage
 * return inside (stage 4 refuses it with `! BAD_FRAME`). Replies come back in
 * order, so if the sentinel's error arrives first, the command was not
 * answered, and the check fails at once.
 *
 * @module
 */
import type { LineSocket } from './lines';

/** The line to send after a command: always answered with `! BAD_FRAME: ...`. */
export const SENTINEL = 'sentinel\r line\n';

const SENTINEL_ERROR = /^! BAD_FRAME: .*carriage return/;

/**
 * Sends `command` then the sentinel, and returns the answer to the command.
 * The sentinel's own error is read too, so the connection is left clean.
 *
 * @param client - a connection to the server
 * @param command - one line, without its `\n`
 * @throws Error if the server answered nothing to the command
 */
export async function answerTo(client: LineSocket, command: string): Promise<string> {
  client.send(`${command}\n${SENTINEL}`);
  const answer = await client.next();
  if (SENTINEL_ERROR.test(answer)) {
    throw new Error(`nothing came back to "${command}" (the server went on to the next line)`);
  }
  await client.waitFor(SENTINEL_ERROR);
  return answer;
}
