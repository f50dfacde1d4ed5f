/**
 * Stage 8's chat client: stage 7's TLS client, with keys of its own. What
 * it says, only the other members can read.
 *
 * The order is the lesson again, one step longer: **the password unlocks my
 * keys before anything is sent.** `--register` makes a new identity
 * (Ed25519 to sign, X25519 to agree keys, the second signed by the first),
 * registers with its public half and then seals the private half into the
 * local key file (scrypt of the password, mode 0600). A login first unlocks
 * that file: a wrong password is `KEY_LOCKED` here, and the server never
 * hears of it. Then stage 7's login (pinned server key, ticket or password),
 * with my public keys in the login frame.
 *
 * After login: a typed line is sealed by `room-client.ts` (sender keys,
 * epochs, signatures); `/verify NAME` prints the safety number to compare
 * out of band, `/fingerprint` mine, `/trust NAME` accepts a changed key
 * after that comparison; `/who` and `/quit` as before. Chat goes to stdout
 * as `alice: hello`, notices and warnings to stderr. With `--password-stdin`
 * the first line of stdin is the password and the rest is chat.
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
import fs from 'node:fs';
import { E2eSession } from '../../shared/src/e2e-session';
import {
  loadIdentityFile,
  saveIdentityFile,
  type ScryptCost,
} from '../../shared/src/identity-file';
import { encodeKeyBundle, generateIdentity, type Identity } from '../../shared/src/identity-keys';
import { KnownMembers } from '../../shared/src/known-members';
import { OpenedCounters } from '../../shared/src/opened-counters';
import type { TicketStore } from '../../shared/src/ticket-store';
import type { CaTrust, PinTrust, TlsSessionCache } from '../../shared/src/tls-client';
import { validateUsername } from '../../shared/src/user-record';
import { connectAndLogIn, type LoggedIn } from './client-login';
import { encodeClientFrame } from './messages';
import { renderServerFrame } from './render';
import { RoomClient } from './room-client';

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
  /** Create the account and a new identity, then log in. */
  register?: boolean;
  /**
   * Make a new identity for an existing account (the key file was lost, or
   * the account predates stage 8). Members who saw the old key are warned.
   */
  newKeys?: boolean;
  /** My identity file: private keys sealed under the password (mode 0600). */
  keyFile: string;
  /** Keys of members seen before (trust on first use); absent: remembered for this run only. */
  knownMembersFile?: string;
  /**
   * Where earlier runs stopped reading each member (opened-counters.ts), so a
   * server cannot replay old messages after a reconnect; absent: this run only.
   */
  openedCountersFile?: string;
  /** scrypt cost for a new key file; default the identity file's (tests pass the floor). */
  scryptCost?: ScryptCost;
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
 * @throws ChatError `KEY_LOCKED` (wrong password for the key file), `KEY_MISSING`,
 *   `KEY_EXISTS` (register over an existing key file), the trust check's code
 *   (`KEY_CHANGED`, `UNKNOWN_SERVER`…), `CONNECT_FAILED`, the server's refusal, or `BAD_ARGUMENT`
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
  let identity: Identity;
  const fresh = options.register === true || options.newKeys === true;
  try {
    // My keys before the network: a wrong password stops here, unsent.
    const password = await askPassword();
    if (fresh) {
      if (fs.existsSync(options.keyFile)) {
        throw new ChatError('KEY_EXISTS', `${options.keyFile} already exists; not replaced`);
      }
      identity = generateIdentity(name);
    } else {
      identity = await loadIdentityFile(options.keyFile, password, (m) =>
        errorOutput.write(`warning: ${m}\n`),
      );
      if (identity.username !== name) {
        throw new ChatError(
          'BAD_IDENTITY_FILE',
          `${options.keyFile} holds ${identity.username}'s keys`,
        );
      }
    }
    session = await connectAndLogIn({
      host: options.host,
      port: options.port,
      trust,
      sessions: options.sessions,
      tickets: options.tickets,
      username: name,
      register: options.register,
      keys: encodeKeyBundle(identity),
      password: async () => password,
      onRetry: (notice) => errorOutput.write(`* ${notice}\n`),
      onPinned: (server, fingerprint) =>
        errorOutput.write(`* pinned ${server} as ${fingerprint}\n`),
    });
    if (fresh) {
      await saveIdentityFile(options.keyFile, identity, password, { cost: options.scryptCost });
    }
  } catch (err) {
    ui?.close();
    // NAME_TAKEN here means no key file (KEY_EXISTS would have stopped
    // --register first): a plain login would have no keys to load.
    throw withLoginHint(err, 'log in with --new-keys instead of --register');
  }
  const console_ = startConsole();
  if (fresh) console_.warn(`* your private keys are in ${options.keyFile} (0600)`, 'notice');
  const known =
    options.knownMembersFile === undefined
      ? KnownMembers.inMemory()
      : KnownMembers.load(options.knownMembersFile, (m) => console_.warn(`warning: ${m}`));
  const opened =
    options.openedCountersFile === undefined
      ? OpenedCounters.inMemory()
      : OpenedCounters.load(options.openedCountersFile, (m) => console_.warn(`warning: ${m}`));
  const pace = new RelayPace(options.serverBudget);
  const room = new RoomClient(
    session.socket,
    identity,
    new E2eSession({ identity, known, opened, firstEpoch: Date.now() }),
    {
      chat: (line) => console_.print(line),
      notice: (line) => console_.warn(line, 'notice'),
      warning: (line) => console_.warn(line, 'error'),
    },
    pace,
  );
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
    const leave = () => {
      if (leaving) return;
      leaving = true;
      // Stage 6's leave: a FIN, then the server's pace and a grace period.
      leaveAtPace(socket, pace, LEAVE_TIMEOUT_MS, (t) => console_.warn(`* ${t}`, 'notice'));
    };
    const send = (text: string) => {
      if (text === '' || leaving) return;
      if (text === '/quit') return leave();
      if (text === '/who') return void room.write(encodeClientFrame({ type: 'who' }));
      if (room.command(text)) return;
      // A mistyped command (or one missing its NAME) must not go to the room as a message.
      if (text.startsWith('/')) {
        const commands = '/who, /verify NAME, /trust NAME, /fingerprint, /quit';
        console_.warn(`! not sent: ${text.split(/\s/)[0]} is not a command here (${commands})`);
        return;
      }
      if (!room.say(text)) console_.pauseUntilDrained(socket);
    };
    session.frames.listen((decoded) => {
      if (!decoded.ok)
        return console_.warn(`! ignored a frame from the server (${decoded.error.code})`);
      if (decoded.frame.type === 'bye') saidBye = true;
      room.receive(decoded.frame);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (lostWith = err.code ?? err.message));
    socket.on('close', () => {
      if (!leaving && !saidBye) {
        console_.warn(lostWith ? `connection lost (${lostWith})` : 'server closed the connection');
      }
      opened.close(); // what this run read, written down for the next one
      known.close(); // and the members it met
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
