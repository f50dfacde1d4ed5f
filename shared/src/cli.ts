/**
 * The command-line contract every entry file follows.
 *
 * Introduced by stage 1. Servers and clients take `--host` and `--port` (or the
 * `HOST` and `PORT` environment variables), defaulting to `127.0.0.1:5050`;
 * `--port 0` asks the operating system for a free port. Entry files only parse
 * the command line and call `startServer` or a client: they hold no logic, so
 * tests can call the same functions directly.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ChatError, isChatError } from './errors';
import { sanitizeForTerminal } from './terminal';

/** Where a server listens or a client connects. */
export interface Endpoint {
  /** Host name or IP address. */
  host: string;
  /** TCP port; 0 means "any free port" for a server. */
  port: number;
}

/** The default endpoint: loopback only, so a learner's server is not exposed to the network. */
export const DEFAULT_ENDPOINT: Readonly<Endpoint> = { host: '127.0.0.1', port: 5050 };

/** The option definitions `node:util` `parseArgs` accepts. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

// The options every server and client accepts.
const ENDPOINT_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/**
 * Parsed option values, by option name: a string for `type: 'string'`
 * options, a boolean for `type: 'boolean'` ones, absent when not given.
 */
export type OptionValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

/** The values of the options every program accepts. */
export interface EndpointValues {
  /** `--host`, when given. */
  host?: string;
  /** `--port`, when given (validated into {@link Endpoint.port}). */
  port?: string;
  /** `--help` / `-h`: the program should print its usage and exit. */
  help?: boolean;
}

/** What {@link parseCommandLine} returns. */
export interface CommandLine<O extends OptionsConfig> {
  /** Where to listen or connect, from flags, then environment, then defaults. */
  endpoint: Endpoint;
  /** Every option's value, the program's own and `host`, `port` and `help`. */
  values: OptionValues<O> & EndpointValues;
}

/**
 * Parses `argv` with the endpoint options plus a program's own, and resolves
 * the endpoint from flags, then environment, then defaults.
 *
 * @param argv - the arguments after the script name (`process.argv.slice(2)`)
 * @param env - the environment (`process.env`); `HOST` and `PORT` are read from it
 * @param extra - the program's own options, in `node:util` `parseArgs` form
 * @returns the endpoint, and the parsed values of all options
 * @throws ChatError `BAD_ARGUMENT` for an unknown option or an invalid port
 */
export function parseCommandLine<O extends OptionsConfig>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  extra: O = {} as O,
): CommandLine<O> {
  const parse = () =>
    parseArgs({
      args: [...argv],
      options: { ...ENDPOINT_OPTIONS, ...extra },
      strict: true,
      allowPositionals: false,
    });
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (err) {
    throw argumentError(err);
  }
  const flags = values as { host?: string; port?: string };
  const host = flags.host ?? env.HOST ?? DEFAULT_ENDPOINT.host;
  const portText = flags.port ?? env.PORT;
  const port = portText === undefined ? DEFAULT_ENDPOINT.port : parsePort(portText);
  return { endpoint: { host, port }, values: values as OptionValues<O> & EndpointValues };
}

/**
 * Parses a program's options (its own plus `--help`/`-h`), with no positional
 * arguments: for programs that take no `--host`/`--port`.
 *
 * @param argv - the arguments after the script name (`process.argv.slice(2)`)
 * @param options - the program's own options, in `node:util` `parseArgs` form
 * @returns the parsed values
 * @throws ChatError `BAD_ARGUMENT` for an unknown option or a missing value (see {@link argumentError})
 */
export function parseOptions<O extends OptionsConfig>(
  argv: readonly string[],
  options: O,
): OptionValues<O> & {
  /** `--help` / `-h` was given: print the usage and exit. */
  help?: boolean;
} {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      strict: true,
      allowPositionals: false,
    });
    return values as OptionValues<O> & { help?: boolean };
  } catch (err) {
    throw argumentError(err);
  }
}

/**
 * Turns an error from `node:util` `parseArgs` into a one-line usage error
 * that points at `--help`. Node's own text for an unknown option is a long
 * sentence about positional arguments, which is not what a typo needs.
 *
 * @param err - what `parseArgs` threw
 * @returns a `BAD_ARGUMENT` ChatError, e.g. `unknown option --prot; --help lists the options`
 *
 * @example
 * ```ts
 * try { parseArgs({ args: ['--prot', '1'], options: {} }); }
 * catch (err) { argumentError(err).message; } //=> 'unknown option --prot; --help lists the options'
 * ```
 */
export function argumentError(err: unknown): ChatError {
  const { code, message } = err as { code?: string; message?: string };
  const unknown = /^Unknown option '([^']+)'/.exec(message ?? '');
  const what =
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== null
      ? `unknown option ${unknown[1]}`
      : (message ?? String(err)).replace(/\.$/, '');
  return new ChatError('BAD_ARGUMENT', `${what}; --help lists the options`);
}

/**
 * Parses a TCP port number.
 *
 * @param text - the port as typed by the user
 * @throws ChatError `BAD_ARGUMENT` unless `text` is an integer from 0 to 65535
 */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ChatError('BAD_ARGUMENT', `invalid port "${text}" (expected 0-65535)`);
  }
  return port;
}

/**
 * Runs an entry file's `main`, turning failures into one clear line on stderr
 * and an exit code, instead of a stack trace: 2 for a usage error, 1 for any
 * other failure, 0 for a prompt the person cancelled (`CANCELLED`). A stack
 * trace is printed only for errors that are not {@link ChatError}s, since
 * those are bugs worth reporting.
 *
 * @param main - the program; it may return an exit code
 */
export function runMain(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      if (isChatError(err) && err.code === 'CANCELLED') {
        // The person chose to stop at a prompt: not a failure, as leaving the chat is not.
        console.error(forTerminal(err.message));
        process.exitCode = 0;
      } else if (isChatError(err)) {
        console.error(`error: ${forTerminal(err.message)} [${err.code}]`);
        process.exitCode = err.code === 'BAD_ARGUMENT' ? 2 : 1;
      } else {
        console.error(err);
        process.exitCode = 1;
      }
    },
  );
}

// A message may quote a server (a refused login's reason): what a terminal
// would obey in it is shown, not obeyed, as in the chat itself. Line by
// line, so the program's own messages keep their line breaks.
function forTerminal(message: string): string {
  return message.split('\n').map(sanitizeForTerminal).join('\n');
}

/**
 * Parses an optional positive integer option such as `--max-queue-bytes`.
 *
 * @param flag - the option's name, for the error message
 * @param text - the value as typed, or `undefined` when the option was not given
 * @returns the number, or `undefined` when not given (the caller's default applies)
 * @throws ChatError `BAD_ARGUMENT` unless `text` is an integer greater than 0
 */
export function parsePositiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new ChatError('BAD_ARGUMENT', `invalid ${flag} "${text}" (expected an integer > 0)`);
  }
  return Number(text);
}

/**
 * Keeps a server up when whoever reads its output goes away
 * (`npm run stage4 | head -3`, a log collector that restarts). A write to a
 * pipe nobody reads fails with EPIPE, Node reports it as an `'error'` event
 * on `process.stdout`, and an `'error'` event nobody listens to ends the
 * process: the chat of everyone connected would end because a log line had
 * no reader. The log is the operator's; losing it must not cost the
 * clients their room. So a server ignores its output's errors: there is
 * nowhere left to report them. (A client is different: it ends when the
 * person is gone.) Call it first thing in a server's entry file.
 */
export function keepServingWithoutOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/**
 * Resolves with the first SIGINT (Ctrl-C) or SIGTERM (a service manager's
 * stop) the process receives, so a server can say goodbye and exit 0.
 *
 * Call it *before* printing `listening on …`: whoever reads that line may
 * signal at once, and a signal with no listener kills the process mid-way.
 * The listeners stay installed (`on`, not `once`): under `npm run` the same
 * signal can arrive twice (once from the terminal's process group, once
 * relayed by npm), and a second one must not interrupt the goodbye. (A
 * SIGTERM sent to npm alone may never arrive: npm relays it to the shell
 * running the script, and `dash` does not pass it on. A service manager
 * starts `node` itself; the root README says how.)
 *
 * @returns a promise of the signal's name
 */
export function onShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
}
