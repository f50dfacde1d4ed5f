/**
 * Reading a password from the keyboard without showing it.
 *
 * A terminal normally echoes what you type and lets you edit the line before
 * the program sees it ("cooked" mode). For a password we switch it to *raw*
 * mode: every key press reaches us at once and nothing is echoed, so we do
 * the little line editing ourselves (Enter, Backspace, Ctrl-C, Ctrl-D).
 * Raw mode is always switched off again, even when the user cancels.
 *
 * Scripts do not type: `--password-stdin` reads the first line of standard
 * input instead (as `docker login` does), which keeps the password out of the
 * command line (visible to every user in `ps`) and out of the shell history.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';

/**
 * A terminal's input stream (`process.stdin` on a TTY): a readable stream with
 * `setRawMode`, which turns the terminal's echo and line editing off (true)
 * or back on (false).
 */
export type RawModeInput = NodeJS.ReadableStream & {
  /** Turns raw mode on (no echo, no line editing) or off. */
  setRawMode(mode: boolean): unknown;
};

/**
 * Asks for a password on a terminal, echoing nothing.
 *
 * @param prompt - e.g. `password for alice: `
 * @param input - the terminal's input (`process.stdin` when it is a TTY)
 * @param output - where the prompt goes (stderr, so stdout stays for chat)
 * @returns the password typed, once Enter is pressed
 * @throws ChatError `BAD_ARGUMENT` if the user cancels (Ctrl-C, or Ctrl-D on an empty line)
 */
export function promptHidden(
  prompt: string,
  input: RawModeInput,
  output: NodeJS.WritableStream,
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
      const password = typed.join('');
      typed = [];
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && typed.length === 0)) {
          return finish(new ChatError('BAD_ARGUMENT', 'no password entered (cancelled)'));
        }
        // An arrow or function key arrives as one chunk starting with ESC: skip it all.
        if (ch === '\u001b') return;
        if (ch === '\u007f' || ch === '\b') typed.pop();
        else if (ch >= ' ') typed.push(ch); // other control characters are ignored
      }
    };
    input.on('data', onData);
  });
}
