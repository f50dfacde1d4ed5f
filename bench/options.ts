/**
 * The benchmark's command-line flags, their defaults and their limits.
 *
 * The defaults describe a small, busy chat room (50 clients, 10 talking) and
 * keep a full run of every target and scenario under about six minutes on 2
 * cores. Every value is bounded: a benchmark that can be told to open a
 * million sockets will one day be told to.
 *
 * @module
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ChatError } from '../shared/src/errors';
import { targetNamed } from './targets';

/**
 * What can be measured: `fanout` and `idle` for every target; `logins`
 * (logins per second) and `burst` (chat latency during a burst of logins)
 * only for stage 6.
 */
export const SCENARIOS = ['fanout', 'idle', 'logins', 'burst'] as const;

/** One of {@link SCENARIOS}. */
export type Scenario = (typeof SCENARIOS)[number];

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
  /** Run only these targets (by name), or every target when null. */
  only: string[] | null;
  /** The scenarios to run. */
  scenarios: Scenario[];
  /** bcrypt cost of the stage 6 server in the login scenarios. */
  bcryptCost: number;
  /** Hashing worker threads of the stage 6 server in the login scenarios. */
  hashWorkers: number;
  /** Logins per round in the logins scenario. */
  logins: number;
  /** Logins in flight at once in the logins scenario. */
  loginClients: number;
  /** Logins at once in the burst scenario. */
  burst: number;
  /** Clients chatting during the burst scenario. */
  chatters: number;
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
  scenarios: [...SCENARIOS],
  bcryptCost: 12,
  // What the stage 6 server does by default: one core is left for the event loop.
  hashWorkers: Math.max(1, os.availableParallelism() - 1),
  logins: 20,
  loginClients: 8,
  burst: 50,
  chatters: 4,
  json: null,
};

/** The `--help` text. */
export const USAGE = `usage: npm run bench -- [flags]
  --clients N        clients in the fan-out room             (default ${DEFAULT_OPTIONS.clients}, 2-2000)
  --senders N        how many of them send                   (default ${DEFAULT_OPTIONS.senders})
  --window N         messages in flight per sender           (default ${DEFAULT_OPTIONS.window}, 1-1000)
  --seconds S        measured seconds per fan-out round      (default ${DEFAULT_OPTIONS.seconds}, 0.2-600)
  --warmup S         unmeasured seconds before measuring     (default ${DEFAULT_OPTIONS.warmupSeconds}, 0-60)
  --rounds N         rounds; the median is shown             (default ${DEFAULT_OPTIONS.rounds}, 1-50)
  --idle N           idle connections for memory, 0 = skip   (default ${DEFAULT_OPTIONS.idle}, 0-10000)
  --bytes N          chat message size in bytes              (default ${DEFAULT_OPTIONS.payloadBytes}, 48-4000)
  --only LIST        targets, comma-separated                (default: all)
                     raw, stage4, raw-sealed, stage5, stage6
  --scenario LIST    scenarios, comma-separated              (default: all)
                     fanout, idle; logins, burst (stage6 only)
  --bcrypt-cost N    stage 6 cost in logins and burst        (default ${DEFAULT_OPTIONS.bcryptCost}, 4-16)
  --hash-workers N   stage 6 hashing threads there           (default ${DEFAULT_OPTIONS.hashWorkers} here: cores - 1, 1-64)
  --logins N         logins per round (logins scenario)      (default ${DEFAULT_OPTIONS.logins}, 1-1000)
  --login-clients N  logins in flight at once                (default ${DEFAULT_OPTIONS.loginClients}, 1-200)
  --burst N          logins at once (burst scenario)         (default ${DEFAULT_OPTIONS.burst}, 1-500)
  --chatters N       clients chatting during the burst       (default ${DEFAULT_OPTIONS.chatters}, 2-50)
  --json FILE        also write every measurement as JSON`;

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
        scenario: { type: 'string' },
        'bcrypt-cost': { type: 'string' },
        'hash-workers': { type: 'string' },
        logins: { type: 'string' },
        'login-clients': { type: 'string' },
        burst: { type: 'string' },
        chatters: { type: 'string' },
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
    only: values.only === undefined ? null : list(values.only).map((n) => targetNamed(n).name),
    scenarios: values.scenario === undefined ? d.scenarios : list(values.scenario).map(scenario),
    bcryptCost: integer('bcrypt-cost', values['bcrypt-cost'], 4, 16, d.bcryptCost),
    hashWorkers: integer('hash-workers', values['hash-workers'], 1, 64, d.hashWorkers),
    logins: integer('logins', values.logins, 1, 1000, d.logins),
    loginClients: integer('login-clients', values['login-clients'], 1, 200, d.loginClients),
    burst: integer('burst', values.burst, 1, 500, d.burst),
    chatters: integer('chatters', values.chatters, 2, 50, d.chatters),
    json: values.json ?? null,
  };
  return options;
}

/** Splits `a,b` into distinct names; an empty list is an error. */
function list(text: string): string[] {
  const names = [...new Set(text.split(',').map((n) => n.trim()))].filter((n) => n !== '');
  if (names.length === 0) throw new ChatError('BAD_ARGUMENT', `empty list "${text}"`);
  return names;
}

function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s === name);
  if (found === undefined) {
    const known = SCENARIOS.join(', ');
    throw new ChatError('BAD_ARGUMENT', `unknown scenario "${name}" (known: ${known})`);
  }
  return found;
}
