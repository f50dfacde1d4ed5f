/**
 * The client's terminal: safe printing of untrusted text, and a console that
 * reads the keyboard while messages keep arriving.
 *
 * Introduced by stage 4 (its chat client); stage 2 already borrows
 * `sanitizeForTerminal` to print what the other side sent, and the clients of
 * stages 5 and 6 reuse all of it.
 *
 * Two problems, one module:
 *
 * - **Untrusted text is not just text.** A chat message is chosen by another
 *   person. If it reaches the terminal raw, `ESC [ 2 J` clears the screen,
 *   `ESC ] 0 ; … BEL` retitles the window, `\r` overwrites the line so a
 *   message can impersonate another sender, and bidi overrides make text read
 *   differently from how it is stored ("Trojan Source"). {@link sanitizeForTerminal}
 *   makes all of these visible instead of letting the terminal obey them.
 * - **Typing while receiving.** A message printed in the middle of the line
 *   being typed garbles it. On a terminal, {@link ChatConsole} clears the
 *   prompt line, prints the message, and redraws the prompt with what was
 *   typed so far. When stdin is a pipe there is no prompt at all: one line in,
 *   one line out, so scripts and tests can drive the client.
 *
 * @module
 */
import readline from 'node:readline';

// Characters a terminal may act on, or that make text lie about its layout:
// - C0 controls except tab (U+0000–U+0008, U+000A–U+001F; ESC is U+001B, so
//   every escape sequence loses its introducer), DEL and the C1 controls
//   (U+007F–U+009F; U+009B is a one-character CSI, U+0085 a "next line");
// - the line and paragraph separators U+2028 and U+2029, which some
//   terminals and most text widgets draw as a line break;
// - every Unicode *format* character (\p{Cf}): the bidirectional controls of
//   "Trojan Source" (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
//   the zero-width space, non-joiner and joiner (U+200B–U+200D), the word
//   joiner and invisible operators (U+2060–U+2064), the byte order mark
//   U+FEFF, the soft hyphen U+00AD, and the tag characters U+E0001–U+E007F
//   (an invisible copy of ASCII, used to hide text from the reader but not
//   from software); the whole tag block U+E0000–U+E007F is listed by
//   range, because U+E0000 itself is unassigned and so not \p{Cf};
// - the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0): letters that print
//   as nothing, so a name made of them looks empty.
// A zero-width joiner between two pictographs is kept: it is what makes
// "man, woman, girl" one family emoji. The first alternative matches that
// case so the replacer can hand it back unchanged; the last one finds runs
// of blanks (see BLANK_WIDTH).
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /(\p{Extended_Pictographic}\ufe0f?\u200d)(?=\p{Extended_Pictographic})|[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u115f\u1160\u3164\uffa0\u{e0000}-\u{e007f}\p{Cf}]|[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u2800\u3000]{2,}/gu;

// A run of blanks wider than this many columns is collapsed: 80 columns of
// spaces push the rest of a message onto what looks like a line of its own
// ("hi<78 spaces>bob: send me your password"). A tab counts as 8 columns, a
// full-width space as 2; 8 columns is more than any ordinary spacing needs.
const BLANK_WIDTH = 8;

/**
 * Makes untrusted text safe to print on a terminal: control and invisible
 * format characters become visible escapes (`\xHH` up to U+00FF, `\uHHHH`
 * up to U+FFFF, `\u{HHHHH}` above), and a run of blanks wider than 8
 * columns becomes ` [N blanks] `. Tabs, ordinary spacing and all printable
 * text (any script, emoji) pass through unchanged. A visible escape beats
 * deleting the character (the reader sees that something was there) and
 * beats U+FFFD (it says what). Backslashes are left alone: a literal `\x1b`
 * typed by a user is harmless text, and the function stays idempotent.
 *
 * @param text - text received from the network
 * @returns the same text, with what a terminal would obey (or hide) made visible
 *
 * @example
 * ```ts
 * sanitizeForTerminal('hi \x1b[2Jthere');       //=> 'hi \\x1b[2Jthere'
 * sanitizeForTerminal('caf\u00e9 \u202e');       //=> 'café \\u202e'
 * sanitizeForTerminal('ad\u200bmin');            //=> 'ad\\u200bmin'
 * sanitizeForTerminal(`hi${' '.repeat(78)}bob`); //=> 'hi [78 blanks] bob'
 * ```
 */
export function sanitizeForTerminal(text: string): string {
  return text.replace(UNSAFE, (match: string, joined: string | undefined) => {
    if (joined !== undefined) return joined; // a joiner inside an emoji sequence
    if (isBlank(match[0]!)) return collapseBlanks(match);
    return escape(match.codePointAt(0)!);
  });
}

function isBlank(ch: string): boolean {
  return ch === '\t' || /^[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u2800\u3000]$/u.test(ch);
}

function collapseBlanks(run: string): string {
  const chars = [...run];
  const width = chars.reduce((w, ch) => w + (ch === '\t' ? 8 : ch === '\u3000' ? 2 : 1), 0);
  return width > BLANK_WIDTH ? ` [${chars.length} blanks] ` : run;
}

function escape(code: number): string {
  const hex = code.toString(16);
  if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

/**
 * Lines a client keeps while the server checks its login (stages 6 to 8); at
 * this many, it stops reading its input until `welcome`. Nobody types a thousand lines
 * during a login, but a pipe (`yes | npm run stage7:client …`) can, and
 * kept without a limit, they filled gigabytes of memory while a silent
 * server let the login wait. Unread input waits in the pipe instead, where
 * the writer is slowed down by the operating system.
 */
export const TYPED_AHEAD_LIMIT = 1000;

/** Why the user's input ended: end of input (Ctrl-D, or a pipe's end) or Ctrl-C. */
export type EndReason = 'eof' | 'interrupt';

/** How a printed line is styled on a colour terminal; pipes always get plain text. */
export type Tone = 'plain' | 'notice' | 'error';

/** Options for a {@link ChatConsole}. Streams default to the process's own. */
export interface ChatConsoleOptions {
  /** Where typed lines come from. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where messages and the prompt go. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Where {@link ChatConsole.warn} writes. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
  /** Prompt mode. Default: both `input` and `output` are TTYs. */
  terminal?: boolean;
  /** Colour notices and errors in prompt mode. Default: `terminal` and no `NO_COLOR` variable. */
  color?: boolean;
  /** The prompt shown in prompt mode. Default `'> '`. */
  prompt?: string;
  /** Called with each line the user types (without its line ending). */
  onLine: (text: string) => void;
  /**
   * Called once when input ends (Ctrl-D, Ctrl-C, or end of the pipe), or when
   * the output can no longer be written (its reader went away); not after
   * {@link ChatConsole.close}.
   */
  onEnd: (reason: EndReason) => void;
}

const COLOURS: Record<Tone, [string, string]> = {
  plain: ['', ''],
  notice: ['\x1b[2m', '\x1b[22m'], // dim
  error: ['\x1b[31m', '\x1b[39m'], // red
};

/**
 * The keyboard and the screen of a chat client, usable with any streams.
 *
 * @example
 * ```ts
 * const ui = new ChatConsole({
 *   onLine: (text) => socket.write(encodeFrame(text)),
 *   onEnd: () => socket.end(),
 * });
 * socket.on('data', ...) // for each received line: ui.print(line)
 * ```
 */
export class ChatConsole {
  /** True in prompt mode (a terminal), false when reading a pipe or file. */
  readonly interactive: boolean;
  private readonly output: NodeJS.WritableStream;
  private readonly errorOutput: NodeJS.WritableStream;
  private readonly color: boolean;
  private readonly rl: readline.Interface;
  private ended = false;
  // The socket this console waits to drain (pauseUntilDrained), if any.
  private draining: NodeJS.EventEmitter | undefined;
  // Paused by pause(), until resume().
  private paused = false;

  /** @param options - streams, mode and callbacks */
  constructor(options: ChatConsoleOptions) {
    const input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.errorOutput = options.errorOutput ?? process.stderr;
    this.interactive = options.terminal ?? (isTTY(input) && isTTY(this.output));
    this.color = this.interactive && (options.color ?? process.env.NO_COLOR === undefined);
    this.rl = readline.createInterface({
      input,
      // In pipe mode readline must not echo or draw anything on stdout.
      output: this.interactive ? this.output : undefined,
      terminal: this.interactive,
      prompt: options.prompt ?? '> ',
      crlfDelay: Infinity, // "\r\n" is one line ending, however the chunks fall
    });
    const end = (reason: EndReason) => {
      if (this.ended) return;
      this.ended = true;
      this.rl.close();
      // Ctrl-C or Ctrl-D leaves the cursor after the prompt; whatever comes
      // next (a notice, the shell's own prompt) starts on a line of its own.
      if (this.interactive) this.output.write('\n');
      options.onEnd(reason);
    };
    this.rl.on('line', (text) => {
      if (this.ended) return;
      options.onLine(text);
      // onLine may have closed the console (e.g. a /quit command).
      if (this.interactive && !this.ended) this.prompt(false);
    });
    // Ctrl-C in prompt mode arrives as a key press, not a signal: readline
    // reports it here, and we treat it as "leave the chat".
    this.rl.on('SIGINT', () => end('interrupt'));
    // Ctrl-D on an empty line, or the end of a pipe.
    this.rl.on('close', () => end('eof'));
    // Nobody reads the output any more (`client | head -3`): a write to it
    // fails with EPIPE, an 'error' event that would end the process with a
    // stack trace. With no one left to show the chat to, leave it as at the
    // end of input; what is printed after that goes nowhere. The error
    // output carries only notices: losing it is no reason to leave.
    this.output.on('error', () => end('eof'));
    this.errorOutput.on('error', () => {});
    if (this.interactive) this.rl.prompt();
  }

  /**
   * Prints one line on the output, without garbling what the user is typing.
   * The text is passed through {@link sanitizeForTerminal} first, so even a
   * caller that forgets to sanitize cannot hand the terminal a control code.
   *
   * @param text - the line, without a line ending
   * @param tone - styling on a colour terminal
   */
  print(text: string, tone: Tone = 'plain'): void {
    this.show(this.output, text, tone);
  }

  /**
   * Prints one line on the error output (status, notices and errors), also
   * sanitized and without garbling the prompt line. Keeping these off the
   * output lets a script read only chat messages from stdout.
   *
   * @param text - the line, without a line ending
   * @param tone - styling on a colour terminal
   */
  warn(text: string, tone: Tone = 'error'): void {
    this.show(this.errorOutput, text, tone);
  }

  /** Stops reading input for a while (e.g. while a login is being checked). */
  pause(): void {
    if (this.ended) return;
    this.paused = true;
    this.rl.pause();
  }

  /**
   * Resumes reading input after {@link ChatConsole.pause}; while a socket is
   * being drained (see {@link ChatConsole.pauseUntilDrained}), once it has.
   */
  resume(): void {
    this.paused = false;
    // Never after close(): resuming stdin would keep the process alive.
    if (!this.ended && this.draining === undefined) this.rl.resume();
  }

  /**
   * Stops reading input until `socket` has sent what it holds: call it when
   * a write returned `false`. The lines readline had already read from the
   * same chunk of input still arrive, and a call for each of them joins the
   * same wait: one `'drain'` listener, not one per line (dozens of them made
   * Node warn of a listener leak when a server stopped reading).
   *
   * @param socket - the connection whose queue is full
   */
  pauseUntilDrained(socket: NodeJS.EventEmitter): void {
    if (this.ended || this.draining !== undefined) return;
    this.draining = socket;
    this.rl.pause();
    socket.once('drain', () => {
      this.draining = undefined;
      if (!this.ended && !this.paused) this.rl.resume();
    });
  }

  /**
   * Stops reading input and restores the terminal, without calling `onEnd`
   * (the program, not the user, decided to stop). Safe to call twice.
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.interactive) clearPromptLine(this.output);
    this.rl.close();
  }

  private show(stream: NodeJS.WritableStream, text: string, tone: Tone): void {
    const [start, stop] = this.color ? COLOURS[tone] : COLOURS.plain;
    const line = `${start}${sanitizeForTerminal(text)}${stop}\n`;
    if (!this.interactive || this.ended) {
      stream.write(line);
      return;
    }
    // Erase the prompt line, print above it, then redraw the prompt together
    // with the half-typed text (prompt(true) keeps the cursor where it was).
    clearPromptLine(this.output);
    stream.write(line);
    this.prompt(true);
  }

  // Draws the prompt. readline's prompt() also resumes the input: a line
  // printed while paused (a message arriving as the socket drains) would
  // otherwise end the pause, and with it the backpressure.
  private prompt(keepTyped: boolean): void {
    this.rl.prompt(keepTyped);
    if (this.paused || this.draining !== undefined) this.rl.pause();
  }
}

function clearPromptLine(output: NodeJS.WritableStream): void {
  readline.cursorTo(output, 0);
  readline.clearLine(output, 0);
}

function isTTY(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}
