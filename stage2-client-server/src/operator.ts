/**
 * The server operator's console: where stage 2's replies come from.
 *
 * The person running `npm run stage2` is the other party of the conversation.
 * On a terminal, when a client's line arrives, the console prompts
 * `reply to 127.0.0.1:54012> ` and the typed line is the reply. When stdin is
 * not a terminal (a pipe, a file, a test), each stdin line is the next
 * reply, in order, so the server can be scripted.
 *
 * The console also prints what the server does (its {@link ServerEvent}s).
 * Everything a client sent goes through `sanitizeForTerminal` first: a line
 * from the network must not be able to drive the operator's terminal with
 * escape codes.
 *
 * @module
 */
import readline from 'node:readline';
import { sanitizeForTerminal } from '../../shared/src/terminal';
import type { ServerEvent } from './events';
import type { ReplyContext } from './turns';

/** Why the operator stopped: end of input (Ctrl-D, end of a pipe) or Ctrl-C. */
export type OperatorEnd = 'eof' | 'interrupt';

/** Options for an {@link OperatorConsole}. */
export interface OperatorOptions {
  /** Where replies are typed (or piped). */
  input: NodeJS.ReadableStream;
  /** Where events and prompts are shown. */
  output: NodeJS.WritableStream;
  /** Prompt mode (a person at a terminal) or script mode (one reply per input line). */
  interactive: boolean;
}

const MAX_QUEUED = 64;

type Waiter = { resolve: (reply: string | null) => void };

/** Replies from a keyboard or a script, and a view of the server's events. */
export class OperatorConsole {
  /** Resolves when the operator is done: input ended with no reply owed, or Ctrl-C. */
  readonly ended: Promise<OperatorEnd>;
  private readonly rl: readline.Interface;
  private readonly queued: string[] = []; // script mode: replies read ahead
  private waiter: Waiter | null = null;
  private inputEnded = false;
  private finish: (why: OperatorEnd) => void = () => {};

  /** @param options - streams and mode */
  constructor(private readonly options: OperatorOptions) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.rl = readline.createInterface({
      input: options.input,
      output: options.interactive ? options.output : undefined,
      terminal: options.interactive,
      crlfDelay: Infinity,
    });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('SIGINT', () => this.finish('interrupt')); // Ctrl-C on a terminal
    this.rl.on('close', () => {
      this.inputEnded = true;
      // A pending reply will never be typed now; queued replies still count.
      this.waiter?.resolve(null);
      this.waiter = null;
      // setImmediate: if the last line was just handed out as a reply, let
      // the server send it before anyone acts on "the operator is done".
      if (this.queued.length === 0) setImmediate(() => this.finish('eof'));
    });
  }

  /**
   * The server's reply function: the next queued line in script mode, or a
   * prompt on the terminal. `null` once input has ended and nothing is left.
   *
   * @param text - the client's line (already shown through {@link OperatorConsole.show})
   * @param context - who sent it, and a signal that fires if they leave first
   */
  reply = (text: string, context: ReplyContext): Promise<string | null> => {
    const next = this.queued.shift();
    if (!this.inputEnded && this.queued.length < MAX_QUEUED) this.rl.resume();
    if (next !== undefined) return Promise.resolve(next);
    if (this.inputEnded) return Promise.resolve(null);
    if (this.options.interactive) {
      this.rl.setPrompt(`reply to ${context.from}> `);
      this.rl.prompt();
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve };
      this.waiter = waiter;
      context.signal.addEventListener('abort', () => {
        if (this.waiter !== waiter) return;
        this.waiter = null;
        if (this.options.interactive) eraseLine(this.options.output); // the prompt is moot
        if (context.signal.reason === 'left') this.print(`(${context.from} left; no reply needed)`);
        resolve(null);
      });
    });
  };

  /**
   * Prints one server event as a line for the operator.
   *
   * @param event - what happened
   */
  show(event: ServerEvent): void {
    const text = describe(event, this.options.interactive);
    if (text !== null) this.print(text);
  }

  /**
   * Prints a line without garbling a prompt that is being typed on.
   *
   * @param text - the line, without a line ending
   */
  print(text: string): void {
    const prompting = this.options.interactive && this.waiter !== null;
    if (prompting) eraseLine(this.options.output);
    this.options.output.write(text + '\n');
    if (prompting) this.rl.prompt(true);
  }

  /** Stops reading input and releases the terminal. Safe to call twice. */
  close(): void {
    this.rl.close();
  }

  private onLine(line: string): void {
    if (line === '') {
      if (this.waiter !== null && this.options.interactive) this.rl.prompt();
      return; // an empty line is never a reply
    }
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve(line);
    } else if (this.options.interactive) {
      this.print('(nobody is waiting for a reply; that line was not sent)');
    } else {
      this.queued.push(line);
      // Script mode reads ahead; a long script should not all sit in memory.
      if (this.queued.length >= MAX_QUEUED) this.rl.pause();
    }
  }
}

function eraseLine(output: NodeJS.WritableStream): void {
  readline.cursorTo(output, 0);
  readline.clearLine(output, 0);
}

function describe(event: ServerEvent, interactive: boolean): string | null {
  const safe = sanitizeForTerminal;
  switch (event.type) {
    case 'connected':
      return event.ahead === 0
        ? `${event.peer} connected`
        : `${event.peer} connected; waiting in line (${event.ahead} ahead)`;
    case 'serving':
      return `now serving ${event.peer} (${event.waiting} waiting)`;
    case 'line':
      return `${event.peer}: ${safe(event.text)}`;
    case 'replied':
      // On a terminal the operator just typed it; a script's reply is echoed.
      return interactive ? null : `replied: ${safe(event.text)}`;
    case 'refused':
      return `${event.peer} sent a line that was refused: ${event.code}`;
    case 'left':
      return `${event.peer} left`;
    case 'turned-away':
      return `${event.peer} turned away: too many clients waiting`;
  }
}
