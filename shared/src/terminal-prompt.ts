/**
 * Asking a person something on the terminal before the chat starts: a
 * password (nothing echoed) or a yes/no question (echoed).
 *
 * Introduced by stage 6, whose client asks for a password; stage 7's client
 * also asks "trust this server?" on first contact. A terminal normally
 * echoes what you type and lets you edit the line before the program sees
 * it ("cooked" mode). Both prompts switch it to *raw* mode instead (every
 * key press at once, no echo by the terminal) and do the little line
 * editing themselves (Enter, Backspace, Ctrl-C, Ctrl-D); raw mode is always
 * switched off again, even when the person cancels. Reading key presses
 * directly, rather than through `readline`, leaves nothing buffered behind:
 * the chat's own line reader starts clean afterwards.
 *
 * Scripts do not type: the clients' `--password-stdin` reads the first line
 * of standard input instead (as `docker login` does), which keeps the
 * password out of the command line (visible to every user in `ps`) and out
 * of the shell history.
 *
 * @module
 */
import { ChatError } from './errors';

/** A terminal's input stream (`process.stdin` on a TTY): it has `setRawMode`. */
export type RawModeInput = NodeJS.ReadableStream & {
  /** Turns raw mode on (no echo, no line editing) or off. */
  setRawMode(mode: boolean): unknown;
};

/**
 * Whether `stream` is a terminal whose raw mode can be switched.
 *
 * @param stream - usually `process.stdin`
 */
export function isRawModeInput(stream: NodeJS.ReadableStream): stream is RawModeInput {
  return (
    (stream as { isTTY?: boolean }).isTTY === true &&
    typeof (stream as { setRawMode?: unknown }).setRawMode === 'function'
  );
}

/**
 * Reads one line typed on the terminal.
 *
 * @param prompt - shown first, e.g. `password for alice: `
 * @param input - the terminal's input
 * @param output - where the prompt (and the echo) go: stderr, so stdout stays for chat
 * @param echo - show what is typed (false for a password)
 * @returns the line, once Enter is pressed
 * @throws ChatError `BAD_ARGUMENT` if the person cancels (Ctrl-C, or Ctrl-D on an empty line)
 */
export function promptLine(
  prompt: string,
  input: RawModeInput,
  output: NodeJS.WritableStream,
  echo: boolean,
): Promise<string> {
  output.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let typed: string[] = []; // code points, so Backspace removes a whole emoji
    const finish = (error?: ChatError) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      const line = typed.join('');
      typed = [];
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && typed.length === 0)) {
          return finish(new ChatError('CANCELLED', 'cancelled: nothing was sent'));
        }
        if (ch === '\u001b') return; // an arrow key's escape sequence: skip the chunk
        if (ch === '\u007f' || ch === '\b') {
          if (typed.pop() !== undefined && echo) output.write('\b \b');
        } else if (ch >= ' ') {
          typed.push(ch);
          if (echo) output.write(ch);
        }
      }
    };
    input.on('data', onData);
  });
}

/**
 * Asks a yes/no question; only `y` or `yes` (any case) is yes.
 *
 * @param question - e.g. `trust this server? [y/N] `
 * @param input - the terminal's input
 * @param output - where the question goes
 */
export async function promptYesNo(
  question: string,
  input: RawModeInput,
  output: NodeJS.WritableStream,
): Promise<boolean> {
  const answer = await promptLine(question, input, output, true);
  return /^\s*y(es)?\s*$/i.test(answer);
}
