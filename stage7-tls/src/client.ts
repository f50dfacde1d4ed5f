/**
 * Stage 7's chat client: stage 6's client over TLS, with the server's key
 * pinned the way ssh pins host keys.
 *
 * The order is the lesson: **nothing is sent before the server is trusted.**
 * `connectPinned` checks the key (pinned → must match; first contact → the
 * terminal asks, or `--server-fingerprint` must name it) before the socket
 * is handed over; only then does the login frame go out. A stored ticket
 * logs in without the password; the password is asked for only when it is
 * needed.
 *
 * Input: on a terminal, the password is asked for without echo (twice with
 * `--register`). With `--password-stdin` the first line of stdin is the
 * password (read even when a ticket is used, so a refused ticket can fall
 * back to it) and the rest is chat. After login, `/who` and `/quit` work as
 * in stage 6; chat goes to stdout as `alice: hello`, notices to stderr.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import { withLoginHint } from '../../shared/src/login-hint';
import type { BucketLimit } from '../../shared/src/rate-limit';
import { leaveAtPace, RelayPace } from '../../shared/src/relay-pace';
import { ChatConsole, TYPED_AHEAD_LIMIT } from '../../shared/src/terminal';
import {
  isRawModeInput,
  promptLine,
  promptYesNo,
  type RawModeInput,
} from '../../shared/src/terminal-prompt';
import type { TicketStore } from '../../shared/src/ticket-store';
import type { CaTrust, PinTrust, TlsSessionCache } from '../../shared/src/tls-client';
import { validateUsername } from '../../shared/src/user-record';
import { connectAndLogIn, type LoggedIn } from './client-login';
import { encodeClientFrame } from './messages';
import { renderServerFrame } from './render';

/** Milliseconds the client waits for the server to close after `/quit`, once the budget has let our frames through. */
export const LEAVE_TIMEOUT_MS = 3000;

/** Options for {@link runClient}. Streams default to the process's own. */
export interface ClientOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** How the server is trusted: a pin (known-servers file) or a CA. */
  trust: PinTrust | CaTrust;
  /** TLS sessions for resumption. */
  sessions?: TlsSessionCache;
  /** Where login tickets are kept. */
  tickets?: TicketStore;
  /** The account. */
  username: string;
  /** Create the account, then log in. */
  register?: boolean;
  /** Read the password from the first line of `input`. */
  passwordStdin?: boolean;
  /** Typed lines. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Chat messages. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Prompts, notices, warnings. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
  /** Prompt mode; default: stdin and stdout are terminals. */
  terminal?: boolean;
  /** The message budget the server is taken to run (stage 6's client: `serverBudget`). */
  serverBudget?: BucketLimit;
}

/**
 * Connects, checks the server's key, logs in, and chats until the user or
 * the server ends it.
 *
 * @param options - where, how to trust, who, and the streams
 * @returns 0 once the session is over
 * @throws ChatError the trust check's code (`KEY_CHANGED`, `UNKNOWN_SERVER`…),
 *   `CONNECT_FAILED`, the server's refusal, or `BAD_ARGUMENT`
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const errorOutput = options.errorOutput ?? process.stderr;
  const name = validateUsername(options.username);
  const terminal = isRawModeInput(input) ? input : undefined;
  if (!options.passwordStdin && terminal === undefined) {
    throw new ChatError(
      'BAD_ARGUMENT',
      'stdin is not a terminal: pass --password-stdin and send the password as the first line',
    );
  }
  const trust = withTerminalPrompt(
    options.trust,
    options.passwordStdin ? undefined : terminal,
    errorOutput,
  );

  // With --password-stdin the console starts now (its first line is the
  // password); on a terminal, after the login, so prompts own the keyboard.
  const typedAhead: string[] = [];
  const keep = (text: string) => {
    // A pipe must not fill our memory while the server checks the login.
    if (typedAhead.push(text) === TYPED_AHEAD_LIMIT) ui?.pause();
  };
  let inputEnded = false;
  let onLine: (text: string) => void = keep;
  let onEnd: () => void = () => (inputEnded = true);
  let ui: ChatConsole | undefined;
  const startConsole = () =>
    (ui ??= new ChatConsole({
      input,
      output,
      errorOutput,
      terminal: options.terminal,
      onLine: (text) => onLine(text),
      onEnd: () => onEnd(),
    }));
  let passwordLine: Promise<string> | undefined;
  if (options.passwordStdin) {
    passwordLine = new Promise<string>((resolve, reject) => {
      onLine = (text) => {
        onLine = keep;
        resolve(text);
      };
      onEnd = () => {
        inputEnded = true;
        reject(new ChatError('BAD_ARGUMENT', 'stdin ended before a password line'));
      };
    });
    passwordLine.catch(() => {});
    startConsole();
  }
  const askPassword = async () => {
    if (passwordLine !== undefined) return passwordLine;
    const password = await promptLine(`password for ${name}: `, terminal!, errorOutput, false);
    if (
      options.register &&
      (await promptLine('again: ', terminal!, errorOutput, false)) !== password
    ) {
      throw new ChatError('BAD_ARGUMENT', 'the two passwords differ; nothing was sent');
    }
    return password;
  };

  let session: LoggedIn;
  try {
    session = await connectAndLogIn({
      host: options.host,
      port: options.port,
      trust,
      sessions: options.sessions,
      tickets: options.tickets,
      username: name,
      register: options.register,
      password: askPassword,
      onRetry: (notice) => errorOutput.write(`* ${notice}\n`),
      onPinned: (server, fingerprint) =>
        errorOutput.write(`* pinned ${server} as ${fingerprint}\n`),
    });
  } catch (err) {
    ui?.close();
    throw withLoginHint(err);
  }
  const console_ = startConsole();
  const { socket, username, count, online } = session;
  const via = session.by === 'ticket' ? ' (with a ticket, no password)' : '';
  console_.warn(
    renderServerFrame({ type: 'welcome', user: username, count, online }).text + via,
    'notice',
  );

  return new Promise<number>((resolve) => {
    let leaving = false;
    let saidBye = false;
    let lostWith: string | undefined;
    const pace = new RelayPace(options.serverBudget);
    const leave = () => {
      if (leaving) return;
      leaving = true;
      // Stage 6's leave: a FIN, then the server's pace and a grace period.
      leaveAtPace(socket, pace, LEAVE_TIMEOUT_MS, (t) => console_.warn(`* ${t}`, 'notice'));
    };
    const send = (text: string) => {
      if (text === '' || leaving) return;
      if (text === '/quit') return leave();
      const length = Buffer.byteLength(text, 'utf8');
      if (length > 4096) {
        console_.warn(`! not sent: message is ${length} bytes; the limit is 4096`);
        return;
      }
      // A mistyped command must not go to the room as a message.
      if (text.startsWith('/') && text !== '/who') {
        console_.warn(`! not sent: ${text.split(/\s/)[0]} is not a command (/who, /quit)`);
        return;
      }
      const frame = encodeClientFrame(text === '/who' ? { type: 'who' } : { type: 'chat', text });
      pace.sent();
      if (!socket.write(frame)) console_.pauseUntilDrained(socket);
    };
    session.frames.listen((decoded) => {
      if (!decoded.ok)
        return console_.warn(`! ignored a frame from the server (${decoded.error.code})`);
      if (decoded.frame.type === 'bye') saidBye = true;
      const shown = renderServerFrame(decoded.frame);
      if (shown.kind === 'chat') console_.print(shown.text);
      else console_.warn(shown.text, shown.kind === 'warning' ? 'error' : 'notice');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (lostWith = err.code ?? err.message));
    socket.on('close', () => {
      if (!leaving && !saidBye) {
        console_.warn(lostWith ? `connection lost (${lostWith})` : 'server closed the connection');
      }
      console_.close();
      resolve(0);
    });
    onLine = send;
    onEnd = leave;
    const paused = typedAhead.length >= TYPED_AHEAD_LIMIT;
    for (const text of typedAhead.splice(0)) send(text);
    if (inputEnded) leave();
    else if (paused) ui?.resume();
  });
}

// On a terminal, first contact asks the person (unless a fingerprint was given).
function withTerminalPrompt(
  trust: PinTrust | CaTrust,
  terminal: RawModeInput | undefined,
  errorOutput: NodeJS.WritableStream,
): PinTrust | CaTrust {
  if (!('knownServers' in trust) || trust.confirmFirstContact || terminal === undefined)
    return trust;
  return {
    ...trust,
    confirmFirstContact: async ({ server, fingerprint }) => {
      errorOutput.write(
        `first contact with ${server}. Its key's fingerprint is\n  ${fingerprint}\n` +
          `Compare it with the one the server printed at start (ask its operator).\n`,
      );
      return promptYesNo('trust this server and remember its key? [y/N] ', terminal, errorOutput);
    },
  };
}
