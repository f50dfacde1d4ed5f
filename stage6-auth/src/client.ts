/**
 * Stage 6's chat client: stage 5's client behind a login.
 *
 * Before it can chat it needs a password: from a hidden prompt on a terminal,
 * or, with `--password-stdin`, from the first line of standard input (the
 * rest of stdin is then chat, so `printf 'pw\nhello\n' | client` works).
 * Lines typed while the login is still being checked are kept and sent, in
 * order, once the server says welcome.
 *
 * The username is checked before the password is asked for. At a terminal
 * the password is asked for once a server has said `hello` (on a connection
 * that closes at once, so typing holds none open), so nobody types one for
 * a server that is not running; `--register` asks for it twice.
 *
 * A refused login (`AUTH_FAILED`, `NAME_TAKEN`, `RATE_LIMITED`...) rejects
 * with the server's code, which the entry file prints as one line on stderr
 * with a non-zero exit code. `AUTH_FAILED` adds "new here? add --register",
 * the same words for an unknown name and a wrong password, so the hint tells
 * nobody which names exist. After login, `/who` says how many are online (and names up to 50) and
 * `/quit` leaves; chat messages go to stdout as `alice: hello`, notices and
 * warnings to stderr, as in stage 5.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import { withLoginHint } from '../../shared/src/login-hint';
import type { BucketLimit } from '../../shared/src/rate-limit';
import { leaveAtPace, RelayPace } from '../../shared/src/relay-pace';
import { ChatConsole } from '../../shared/src/terminal';
import { isRawModeInput, promptLine, type RawModeInput } from '../../shared/src/terminal-prompt';
import { validateUsername } from '../../shared/src/user-record';
import { initialPhase, transition, type InputEvent } from './client-input';
import { connectAndLogIn, type LoggedIn } from './client-login';
import { encodeClientFrame } from './messages';
import { renderServerFrame, sealMessage } from './sealed-messages';

/**
 * How long, in milliseconds, the client waits for the server to close the
 * connection after the user quit and the server's message budget has let
 * through what the client sent (`relay-pace.ts`), before it closes it by force.
 */
export const LEAVE_TIMEOUT_MS = 3000;

/** Options for {@link runClient}. Streams default to the process's own. */
export interface ClientOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** The room key (32 bytes), loaded by the caller from the key file. */
  key: Uint8Array;
  /** The account to log in as (or to create, with `register`). */
  username: string;
  /** Create the account, then log in. */
  register?: boolean;
  /** Read the password from the first line of `input` instead of a hidden prompt. */
  passwordStdin?: boolean;
  /** Where typed lines come from. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where chat messages go. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Where prompts, notices, warnings and status go. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
  /** Prompt mode; default: stdin and stdout are both terminals. */
  terminal?: boolean;
  /**
   * The message budget the server is taken to run (default: the server's
   * default). On leaving, the client waits until that pace has let through
   * what it sent (see shared/src/relay-pace.ts).
   */
  serverBudget?: BucketLimit;
}

/**
 * Logs in, then chats until the user or the server ends it.
 *
 * @param options - where to connect, who to be, the key, and the streams
 * @returns 0 once the session is over (the user quit or the server left)
 * @throws ChatError the server's code if it refused the login, `CONNECT_FAILED`
 *   if it cannot be reached, `BAD_ARGUMENT` if no password could be read,
 *   `CANCELLED` if the person cancelled the password prompt (Ctrl-C, Ctrl-D)
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const { key } = options;
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const errorOutput = options.errorOutput ?? process.stderr;
  // A name the server would refuse is said now, before anyone types a password.
  const name = validateUsername(options.username);
  // Without --password-stdin the password comes from a hidden prompt.
  let terminal: RawModeInput | undefined;
  if (!options.passwordStdin) {
    if (!isRawModeInput(input)) {
      throw new ChatError(
        'BAD_ARGUMENT',
        'stdin is not a terminal: pass --password-stdin and send the password as the first line',
      );
    }
    terminal = input;
  }

  // What a typed line means depends on where the client is: one phase at a
  // time, one transition function (client-input.ts). `dispatch` feeds it an
  // event and carries out what it says; sending needs the session, so the
  // chat's two actions are filled in at welcome (before it, no phase sends).
  let phase = initialPhase(terminal === undefined);
  let chat: { send(text: string): void; leave(): void } | undefined;
  let givePassword: (text: string) => void = () => {};
  let noPassword: () => void = () => {};
  const passwordLine = new Promise<string>((resolve, reject) => {
    givePassword = resolve;
    noPassword = () => reject(new ChatError('BAD_ARGUMENT', 'stdin ended before a password line'));
  });
  passwordLine.catch(() => {}); // awaited below only when it is needed
  const dispatch = (event: InputEvent) => {
    const step = transition(phase, event);
    phase = step.phase;
    for (const effect of step.effects) {
      if (effect.type === 'password') givePassword(effect.text);
      else if (effect.type === 'no-password') noPassword();
      else if (effect.type === 'send') chat?.send(effect.text);
      else if (effect.type === 'pause-input') started?.pause();
      else if (effect.type === 'resume-input') started?.resume();
      else chat?.leave();
    }
  };
  // The console reads typed lines. With --password-stdin it starts at once
  // (its first line is the password); at a terminal, once the hidden prompt
  // is done, so the prompt has the keyboard to itself.
  let started: ChatConsole | undefined;
  const startConsole = (): ChatConsole =>
    (started ??= new ChatConsole({
      input,
      output,
      errorOutput,
      terminal: options.terminal,
      onLine: (text) => dispatch({ type: 'line', text }),
      onEnd: () => dispatch({ type: 'input-ended' }),
    }));
  if (terminal === undefined) startConsole();
  // Asked once the server has said hello: nobody types a password for a
  // server that is not there. Ctrl-C or Ctrl-D rejects with CANCELLED (no
  // credentials were sent; runMain exits 0 with one line, as leaving does).
  const askPassword = (tty: RawModeInput) => async (): Promise<string> => {
    const password = await promptLine(`password for ${name}: `, tty, errorOutput, false);
    // Nobody sees what they typed, so a new password is typed twice.
    if (options.register && (await promptLine('again: ', tty, errorOutput, false)) !== password) {
      throw new ChatError('BAD_ARGUMENT', 'the two passwords differ; nothing was sent');
    }
    startConsole();
    return password;
  };

  let session: LoggedIn;
  try {
    session = await connectAndLogIn({
      host: options.host,
      port: options.port,
      key,
      username: name,
      // From stdin, the password is read first, as a script expects; a
      // person is asked once a server has said hello (askPassword).
      password: terminal === undefined ? await passwordLine : askPassword(terminal),
      register: options.register,
      onRetry: (notice) =>
        started ? started.warn(`* ${notice}`, 'notice') : errorOutput.write(`* ${notice}\n`),
    });
  } catch (err) {
    started?.close();
    throw withLoginHint(err);
  }
  const ui = startConsole();
  const { socket, username, count, online } = session;
  const welcome = { type: 'welcome', user: username, count, online } as const;
  ui.warn(renderServerFrame(key, welcome).text, 'notice');

  return new Promise<number>((resolve) => {
    let saidBye = false; // the server said goodbye: its close needs no second notice
    let lostWith: string | undefined;
    const pace = new RelayPace(options.serverBudget);

    // #region focus
    const send = (text: string) => {
      // A mistyped command must not go to the room as a message.
      if (text.startsWith('/') && text !== '/who') {
        ui.warn(`! not sent: ${text.split(/\s/)[0]} is not a command (/who, /quit)`);
        return;
      }
      let frame: Buffer;
      try {
        frame =
          text === '/who' ? encodeClientFrame({ type: 'who' }) : sealMessage(key, username, text); // bound to my name, sealed here
      } catch (err) {
        ui.warn(`! not sent: ${(err as Error).message}`);
        return;
      }
      pace.sent();
      if (!socket.write(frame)) ui.pauseUntilDrained(socket);
    };

    session.frames.listen((decoded) => {
      if (!decoded.ok) {
        ui.warn(`! ignored a frame from the server (${decoded.error.code})`);
        return;
      }
      if (decoded.frame.type === 'bye') saidBye = true;
      const shown = renderServerFrame(key, decoded.frame); // opened, verified, sanitized
      if (shown.kind === 'chat') ui.print(shown.text);
      else ui.warn(shown.text, shown.kind === 'warning' ? 'error' : 'notice');
    });
    // #endregion focus
    // Half-close: what we sent goes out, then a FIN; and wait for the server
    // to let it through the message budget before closing by force.
    const leave = () =>
      leaveAtPace(socket, pace, LEAVE_TIMEOUT_MS, (t) => ui.warn(`* ${t}`, 'notice'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lostWith = err.code ?? err.message;
    });
    socket.on('close', () => {
      if (phase.name !== 'leaving' && !saidBye) {
        ui.warn(lostWith ? `connection lost (${lostWith})` : 'server closed the connection');
      }
      dispatch({ type: 'disconnected' });
      ui.close();
      resolve(0);
    });

    chat = { send, leave };
    // Lines typed during the login go out now, in order (and an input that
    // has already ended ends the session after them).
    dispatch({ type: 'welcome' });
  });
}
