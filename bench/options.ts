/**
 * The benchmark's command-line flags, their defaults and their limits.
 *
 * The defaults describe a small, busy chat room (50 clients, 10 talking) and
 * keep a full run of both targets under about three minutes on 2 cores.
 * Every value is bounded: a benchmark that can be told to open a million
 * sockets will one day be told to.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { ChatError } from '../shared/src/errors';
import { targetNamed } from './targets';

/** Everything a run needs to know. */
export interface BenchOptions {
  /** Clients in the fan-out room. */
  clients: number;
  /** How many of them send. */
  senders: number;
  /** Messages each sender may have in flight. */
  window: number;
  /** Measured seconds per fan-out round. */
  seconds: number;
  /** Unmeasured seconds of sending before each measurement. */
  warmupSeconds: number;
  /** Rounds per target; the report shows the median. */
  rounds: number;
  /** Idle connections for the memory measurement (0 skips it). */
  idle: number;
  /** Size of each chat message's text, in bytes. */
  payloadBytes: number;
  /** Run only this target (by name), or every target when null. */
  only: string | null;
  /** Also write the full results as JSON to this file. */
  json: string | null;
}

/** The defaults, as documented in bench/README.md. */
export const DEFAULT_OPTIONS: Readonly<BenchOptions> = {
  clients: 50,
  senders: 10,
  window: 32,
  seconds: 5,
  warmupSeconds: 1,
  rounds: 3,
  idle: 1000,
  payloadBytes: 64,
  only: null,
  json: null,
};

/** The `--help` text. */
export const USAGE = `usage: npm run bench -- [flags]
  --clients N    clients in the fan-out room            (default ${DEFAULT_OPTIONS.clients}, 2-2000)
  --senders N    how many of them send                  (default ${DEFAULT_OPTIONS.senders})
  --window N     messages in flight per sender          (default ${DEFAULT_OPTIONS.window}, 1-1000)
  --seconds S    measured seconds per fan-out round     (default ${DEFAULT_OPTIONS.seconds}, 0.2-600)
  --warmup S     unmeasured seconds before measuring    (default ${DEFAULT_OPTIONS.warmupSeconds}, 0-60)
  --rounds N     rounds per target; the median is shown (default ${DEFAULT_OPTIONS.rounds}, 1-50)
  --idle N       idle connections for memory, 0 = skip (default ${DEFAULT_OPTIONS.idle}, 0-10000)
  --bytes N      chat message size in bytes             (default ${DEFAULT_OPTIONS.payloadBytes}, 48-4000)
  --only NAME    run one target: raw or stage4           (default: all)
  --json FILE    also write every measurement as JSON`;

function integer(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
  fallback: number,
) {
  return bounded(name, text, min, max, fallback, true);
}

function bounded(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
  fallback: number,
  whole = false,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
    throw new ChatError('BAD_ARGUMENT', `--${name} must be a number, got "${text}"`);
  }
  if (value < min || value > max) {
    throw new ChatError('BAD_ARGUMENT', `--${name} must be between ${min} and ${max}`);
  }
  return value;
}

/**
 * Parses the benchmark's flags.
 *
 * @param argv - the arguments after the script name
 * @returns the options, or `'help'` when `--help` was given
 * @throws ChatError `BAD_ARGUMENT` for an unknown flag or a value out of range
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        clients: { type: 'string' },
        senders: { type: 'string' },
        window: { type: 'string' },
        seconds: { type: 'string' },
        warmup: { type: 'string' },
        rounds: { type: 'string' },
        idle: { type: 'string' },
        bytes: { type: 'string' },
        only: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new ChatError('BAD_ARGUMENT', (err as Error).message);
  }
  if (values.help) return 'help';
  const d = DEFAULT_OPTIONS;
  const clients = integer('clients', values.clients, 2, 2000, d.clients);
  const options: BenchOptions = {
    clients,
    senders: integer('senders', values.senders, 1, clients, Math.min(d.senders, clients)),
    window: integer('window', values.window, 1, 1000, d.window),
    seconds: bounded('seconds', values.seconds, 0.2, 600, d.seconds),
    warmupSeconds: bounded('warmup', values.warmup, 0, 60, d.warmupSeconds),
    rounds: integer('rounds', values.rounds, 1, 50, d.rounds),
    idle: integer('idle', values.idle, 0, 10_000, d.idle),
    payloadBytes: integer('bytes', values.bytes, 48, 4000, d.payloadBytes),
    only: values.only === undefined ? null : targetNamed(values.only).name,
    json: values.json ?? null,
  };
  return options;
}
