/**
 * The benchmark's command-line flags, their defaults and their limits.
 *
 * The defaults describe a small, busy chat room (50 clients, 10 talking) and
 * a big, mostly silent one (10,000 logged-in users, 100 of them chatting),
 * and keep a full run of every target and scenario under about twenty
 * minutes on 2 cores. `--quick` shrinks everything for a smoke run of a
 * minute or two. Every value is bounded: a benchmark that can be told to open
 * a million sockets will one day be told to.
 *
 * @module
 */
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { argumentError } from '../shared/src/cli';
import { ChatError } from '../shared/src/errors';
import { targetNamed } from './targets';

/**
 * What can be measured: `fanout` and `idle` for every target; `logins`
 * (logins per second) and `burst` (chat latency during a burst of logins)
 * only for stage 6; `scale` (10,000 idle users plus 100 chatting) for the raw
 * baseline and stage 6.
 */
export const SCENARIOS = ['fanout', 'idle', 'logins', 'burst', 'scale'] as const;

/** Where the Markdown report goes by default (its charts go next to it, in `benchmarks/`). */
export const DEFAULT_REPORT = path.join('docs', 'benchmarks.md');

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
  /** Idle connections in the scale scenario (0 skips it). */
  scale: number;
  /** Clients chatting in the scale scenario. */
  active: number;
  /** Messages per second, all active clients together, in the scale scenario. */
  activeRate: number;
  /** Measured seconds of chat per period in the scale scenario. */
  scaleSeconds: number;
  /** Rounds of the scale scenario (fewer than `rounds`: each takes minutes). */
  scaleRounds: number;
  /** True when `--quick` chose the sizes (a smoke run, not for comparison). */
  quick: boolean;
  /** Write the Markdown report (and its charts) here; null: no report file. */
  report: string | null;
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
  scale: 10_000,
  active: 100,
  // Low on purpose: with 10,000 in the room every message costs 10,000
  // writes, and the question is what the crowd costs a conversation, not
  // where the server saturates (the fan-out scenario asks that).
  activeRate: 5,
  scaleSeconds: 15,
  scaleRounds: 2,
  quick: false,
  report: DEFAULT_REPORT,
  json: null,
};

/**
 * What `--quick` changes: every size small and one round, for a smoke run
 * (about two minutes on 2 cores) that still exercises every scenario and
 * writes the whole report. Flags given explicitly still win.
 */
export const QUICK_OPTIONS: Readonly<Partial<BenchOptions>> = {
  clients: 10,
  senders: 2,
  seconds: 1,
  warmupSeconds: 0.5,
  rounds: 1,
  idle: 200,
  bcryptCost: 10,
  logins: 6,
  loginClients: 3,
  burst: 10,
  chatters: 3,
  scale: 1000,
  active: 20,
  activeRate: 10,
  scaleSeconds: 3,
  scaleRounds: 1,
  quick: true,
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
  --scale N          idle users in the scale scenario, 0 = skip (default ${DEFAULT_OPTIONS.scale}, 0-20000)
  --active N         clients chatting in the scale scenario  (default ${DEFAULT_OPTIONS.active}, 2-1000)
  --active-rate R    their messages per second, all together (default ${DEFAULT_OPTIONS.activeRate}, 1-1000)
  --scale-seconds S  measured seconds of that chat, per period (default ${DEFAULT_OPTIONS.scaleSeconds}, 0.5-600)
  --scale-rounds N   rounds of the scale scenario            (default ${DEFAULT_OPTIONS.scaleRounds}, 1-50)
  --bytes N          chat message size in bytes              (default ${DEFAULT_OPTIONS.payloadBytes}, 48-4000)
  --only LIST        targets, comma-separated                (default: all)
                     raw, stage4, raw-sealed, stage5, stage6
  --scenario LIST    scenarios, comma-separated              (default: all)
                     fanout, idle; logins, burst (stage6 only); scale (raw, stage6)
  --bcrypt-cost N    stage 6 cost in logins and burst        (default ${DEFAULT_OPTIONS.bcryptCost}, 4-16)
  --hash-workers N   stage 6 hashing threads there           (default ${DEFAULT_OPTIONS.hashWorkers} here: cores - 1, 1-64)
  --logins N         logins per round (logins scenario)      (default ${DEFAULT_OPTIONS.logins}, 1-1000)
  --login-clients N  logins in flight at once                (default ${DEFAULT_OPTIONS.loginClients}, 1-200)
  --burst N          logins at once (burst scenario)         (default ${DEFAULT_OPTIONS.burst}, 1-500)
  --chatters N       clients chatting during the burst       (default ${DEFAULT_OPTIONS.chatters}, 2-50)
  --quick            small sizes and 1 round: a smoke run of a minute or two
  --report FILE      the Markdown report, charts beside it   (default ${DEFAULT_REPORT})
  --no-report        write no report file (print only)
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
        scale: { type: 'string' },
        active: { type: 'string' },
        'active-rate': { type: 'string' },
        'scale-seconds': { type: 'string' },
        'scale-rounds': { type: 'string' },
        quick: { type: 'boolean' },
        report: { type: 'string' },
        'no-report': { type: 'boolean' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw argumentError(err);
  }
  if (values.help) return 'help';
  if (values.report !== undefined && values['no-report']) {
    throw new ChatError('BAD_ARGUMENT', '--report and --no-report exclude each other');
  }
  const d: BenchOptions = { ...DEFAULT_OPTIONS, ...(values.quick ? QUICK_OPTIONS : {}) };
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
    scale: integer('scale', values.scale, 0, 20_000, d.scale),
    active: integer('active', values.active, 2, 1000, d.active),
    activeRate: bounded('active-rate', values['active-rate'], 1, 1000, d.activeRate),
    scaleSeconds: bounded('scale-seconds', values['scale-seconds'], 0.5, 600, d.scaleSeconds),
    scaleRounds: integer('scale-rounds', values['scale-rounds'], 1, 50, d.scaleRounds),
    quick: d.quick,
    report: values['no-report'] ? null : (values.report ?? d.report),
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
