/**
 * Structured logs: one JSON object per event (or one readable line on a
 * terminal), never a secret.
 *
 * Introduced by stage 6. A server that handles logins needs a record of who
 * connected, who logged in or failed, and why connections ended, in a form a
 * machine can search ("every failure for conn 42", "every RATE_LIMITED from
 * this IP"). `console.log` sentences are hard to search, so the stage uses
 * pino: a fast, widely used logger that writes one JSON line per call.
 *
 * Each connection gets a child logger carrying its `conn` id and remote
 * address, so every line about it can be found with one filter. On a
 * terminal the same events are printed for people instead (`format: 'pretty'`,
 * see log-format.ts).
 *
 * The rule that matters most: **never log passwords, keys, password hashes or
 * chat plaintext** (a log file is read by more people, kept longer and copied
 * further than a database). The server code simply never passes them to the
 * logger; {@link REDACT_PATHS} is defence in depth, so a future
 * `log.info({ password })` slip prints `[redacted]` instead of the secret.
 *
 * @module
 */
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyDestination, type LogFormat } from './log-format';

/** The logger type (pino's), named here so callers need not import pino. */
export type Logger = PinoLogger;

/**
 * Field names that pino replaces with `[redacted]` wherever they appear at the
 * top level or one level down (`password`, `user.password`, ...).
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'passwordHash',
  'key',
  'box',
  'text',
  'plaintext',
  'credentials',
].flatMap((field) => [field, `*.${field}`]);

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written: 'debug', 'info' (default), 'warn', 'error' or 'silent'. */
  level?: string;
  /** Where the JSON lines go. Default: standard error, written synchronously. */
  destination?: DestinationStream;
  /**
   * `'pretty'` writes one readable line per event to standard error instead
   * of JSON (see log-format.ts); ignored when `destination` is given.
   * Default `'json'`.
   */
  format?: LogFormat;
  /** Colour the pretty format's levels. Default: no `NO_COLOR` in the environment. */
  color?: boolean;
  /** Fields added to every line, e.g. `{ stage: 6 }`. */
  base?: Record<string, unknown>;
}

/**
 * Creates the server's logger.
 *
 * Logs go to standard error so standard output stays for the lines users and
 * tests read (`listening on ...`). Writes are synchronous: the server logs a
 * handful of lines per connection, never one per chat message, and a
 * synchronous write cannot be lost when the process exits.
 *
 * @param options - level, destination and base fields
 * @returns a pino logger that redacts {@link REDACT_PATHS}
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info' });
 * log.info({ event: 'login_failed', code: 'AUTH_FAILED' }, 'login failed');
 * // {"level":30,"time":...,"event":"login_failed","code":"AUTH_FAILED","msg":"login failed"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    options.destination ?? stderrDestination(options),
  );
}

// Standard error, written synchronously (sonic-boom retries a busy pipe), as
// JSON or formatted for a person.
function stderrDestination(options: LoggerOptions): DestinationStream {
  const stderr = pino.destination({ dest: 2, sync: true });
  if (options.format !== 'pretty') return stderr;
  const color = options.color ?? process.env.NO_COLOR === undefined;
  return prettyDestination((text) => stderr.write(text), color);
}

/**
 * A logger that writes nothing: the default for servers started by tests and
 * benchmarks that do not care about logs.
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The child logger for one connection: every line it writes carries the
 * connection's id and remote address.
 *
 * @param logger - the server's logger
 * @param conn - a number unique within this server process
 * @param remote - the client's `ip:port`
 */
export function connectionLogger(logger: Logger, conn: number, remote: string): Logger {
  return logger.child({ conn, remote });
}
