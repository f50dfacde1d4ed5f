/**
 * How the server's log looks: JSON lines for machines, or one readable line
 * per event for a person at a terminal.
 *
 * Introduced by stage 6, with the logger. The events are the same either way
 * (the logger always produces JSON); only the last step differs:
 *
 * ```text
 * {"level":40,"time":1764000000000,"conn":3,"remote":"127.0.0.1:50312","event":"login_failed","user":"alice","code":"AUTH_FAILED","msg":"login failed: AUTH_FAILED"}
 * 14:02:11.519 WARN  login failed: AUTH_FAILED  conn=3 remote=127.0.0.1:50312 user=alice code=AUTH_FAILED
 * ```
 *
 * The default follows where stderr goes: a terminal gets the readable form,
 * a pipe or a file (a service manager, a log shipper, `2> log.json`) gets
 * JSON. `LOG_FORMAT=json` or `LOG_FORMAT=pretty` (or `--log-format`) decides
 * explicitly.
 *
 * **Why not pino-pretty?** It is the usual choice, but it brings about a dozen
 * packages and is built for arbitrary logs. This log has a handful of flat
 * events, and this formatter is short enough to read whole and tested,
 * including what matters most for a log that prints values from the network:
 * control characters in them are made visible, never obeyed by the terminal.
 *
 * @module
 */
import { ChatError } from './errors';
import { sanitizeForTerminal } from './terminal';

/** The two ways the log can be written. */
export type LogFormat = 'json' | 'pretty';

/** The environment variable that chooses the format. */
export const LOG_FORMAT_ENV = 'LOG_FORMAT';

/**
 * Chooses the log format: what was asked for, else pretty on a terminal and
 * JSON anywhere else.
 *
 * @param asked - `--log-format` or `LOG_FORMAT`, if either was given
 * @param terminal - whether stderr is a terminal (`process.stderr.isTTY`)
 * @throws ChatError `BAD_ARGUMENT` for anything but `json` or `pretty`
 */
export function chooseLogFormat(asked: string | undefined, terminal: boolean): LogFormat {
  if (asked === undefined || asked === '') return terminal ? 'pretty' : 'json';
  if (asked === 'json' || asked === 'pretty') return asked;
  throw new ChatError('BAD_ARGUMENT', `log format must be "json" or "pretty", not "${asked}"`);
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[90m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[31m'],
};
// Said by the line's start (time, level, message) or, for `event`, by the message.
const SHOWN_FIRST = new Set(['level', 'time', 'msg', 'event']);

/**
 * Formats one JSON log line for a person: time, level, message, then every
 * other field as `name=value`. A line that is not a JSON object is returned
 * as it was (sanitized), so nothing is ever lost.
 *
 * @param line - one line pino wrote (with or without its `\n`)
 * @param color - colour the level (a terminal without `NO_COLOR`)
 * @returns the readable line, without a line ending
 *
 * @example
 * ```ts
 * formatLogLine('{"level":30,"time":0,"event":"connect","conn":1,"msg":"connected"}', false);
 * //=> '00:00:00.000 INFO  connected  conn=1'   (the time in the local time zone)
 * ```
 */
export function formatLogLine(line: string, color: boolean): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return sanitizeForTerminal(line.trimEnd());
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return sanitizeForTerminal(line.trimEnd());
  }
  const fields = record as Record<string, unknown>;
  const [name, colour] = LEVELS[Number(fields.level)] ?? [String(fields.level), ''];
  const level = color && colour !== '' ? `${colour}${name}\x1b[39m` : name;
  const rest = Object.entries(fields)
    .filter(([key]) => !SHOWN_FIRST.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  // Only our own colour codes reach the terminal raw; every value is sanitized.
  const text = [String(fields.msg ?? ''), rest.join(' ')].filter((p) => p !== '').join('  ');
  return `${clock(fields.time)} ${level} ${sanitizeForTerminal(text)}`;
}

/** `HH:MM:SS.mmm` in local time, or `??:??:??.???` without a time. */
function clock(time: unknown): string {
  if (typeof time !== 'number') return '??:??:??.???';
  const d = new Date(time);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * A destination for pino that writes each line formatted for a person.
 *
 * @param write - where each finished line (with `\n`) goes
 * @param color - colour the levels
 * @returns an object with the `write(line)` method pino calls
 */
export function prettyDestination(
  write: (text: string) => void,
  color: boolean,
): {
  /** Called by pino with one or more finished JSON lines. */
  write(line: string): void;
} {
  return {
    write(chunk: string) {
      // pino writes one line per call; split anyway, so nothing can run together.
      for (const line of chunk.split('\n')) {
        if (line !== '') write(formatLogLine(line, color) + '\n');
      }
    },
  };
}
