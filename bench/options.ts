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
 * baseline and stage 6; `cluster` (the fan-out over 1, 2 and 3 nodes through
 * Redis) for stage 9.
 */
export const SCENARIOS = ['fanout', 'idle', 'logins', 'burst', 'scale', 'cluster'] as const;

/** The Redis of the cluster scenario (stage 9) unless `--redis-url` says otherwise. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

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
  /** The Redis the cluster scenario's nodes share (`redis://HOST:PORT`). */
  redisUrl: string;
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
  redisUrl: DEFAULT_REDIS_URL,
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

/** The options set by a number flag. */
type NumberKey = {
  [K in keyof BenchOptions]: BenchOptions[K] extends number ? K : never;
}[keyof BenchOptions];

/** One number flag: where it goes, its range, and its line in `--help`. */
interface NumberFlag {
  flag: string;
  key: NumberKey;
  min: number;
  max: number;
  /** Whole numbers only. */
  whole: boolean;
  help: string;
}

const flag = (
  name: string,
  key: NumberKey,
  min: number,
  max: number,
  help: string,
  whole = true,
): NumberFlag => ({ flag: name, key, min, max, whole, help });

/** Every number flag, in `--help` order (`--senders` is bounded by `--clients` too). */
const NUMBER_FLAGS: readonly NumberFlag[] = [
  flag('clients', 'clients', 2, 2000, 'clients in the fan-out room'),
  flag('senders', 'senders', 1, 2000, 'how many of them send'),
  flag('window', 'window', 1, 1000, 'messages in flight per sender'),
  flag('seconds', 'seconds', 0.2, 600, 'measured seconds per fan-out round', false),
  flag('warmup', 'warmupSeconds', 0, 60, 'unmeasured seconds before measuring', false),
  flag('rounds', 'rounds', 1, 50, 'rounds; the median is shown'),
  flag('idle', 'idle', 0, 10_000, 'idle connections for memory, 0 = skip'),
  flag('scale', 'scale', 0, 20_000, 'idle users in the scale scenario, 0 = skip'),
  flag('active', 'active', 2, 1000, 'clients chatting in the scale scenario'),
  flag('active-rate', 'activeRate', 1, 1000, 'their messages per second, all together', false),
  flag(
    'scale-seconds',
    'scaleSeconds',
    0.5,
    600,
    'measured seconds of that chat, per period',
    false,
  ),
  flag('scale-rounds', 'scaleRounds', 1, 50, 'rounds of the scale scenario'),
  flag('bytes', 'payloadBytes', 48, 4000, 'chat message size in bytes'),
  flag('bcrypt-cost', 'bcryptCost', 4, 16, 'stage 6 cost in logins and burst'),
  flag('hash-workers', 'hashWorkers', 1, 64, 'stage 6 hashing threads, default cores - 1'),
  flag('logins', 'logins', 1, 1000, 'logins per round (logins scenario)'),
  flag('login-clients', 'loginClients', 1, 200, 'logins in flight at once'),
  flag('burst', 'burst', 1, 500, 'logins at once (burst scenario)'),
  flag('chatters', 'chatters', 2, 50, 'clients chatting during the burst'),
];

/** The `--help` text. */
export const USAGE = [
  'usage: npm run bench -- [flags]',
  ...NUMBER_FLAGS.map(
    (f) =>
      `  ${`--${f.flag} ${f.whole ? 'N' : f.flag.endsWith('rate') ? 'R' : 'S'}`.padEnd(19)}${f.help.padEnd(45)}` +
      `(default ${DEFAULT_OPTIONS[f.key]}, ${f.min}-${f.max})`,
  ),
  '  --only LIST        targets, comma-separated: raw, stage4, raw-sealed, stage5, stage6,',
  '                     stage7, stage8, stage8-relay, stage9',
  `  --scenario LIST    scenarios, comma-separated: ${SCENARIOS.join(', ')}`,
  '                     (logins and burst: stage6 only; scale: raw and stage6;',
  '                     cluster: stage9)',
  `  --redis-url URL    the Redis of the cluster scenario (default ${DEFAULT_REDIS_URL})`,
  '  --quick            small sizes and 1 round: a smoke run of a minute or two',
  `  --report FILE      the Markdown report, charts beside it (default ${DEFAULT_REPORT})`,
  '  --no-report        write no report file (print only)',
  '  --json FILE        also write every measurement as JSON',
].join('\n');

/** Reads one number flag, or its default; throws `BAD_ARGUMENT` if out of range. */
function numberFlag(f: NumberFlag, text: string | undefined, fallback: number, max = f.max) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (f.whole && !Number.isInteger(value))) {
    throw new ChatError('BAD_ARGUMENT', `--${f.flag} must be a number, got "${text}"`);
  }
  if (value < f.min || value > max) {
    throw new ChatError('BAD_ARGUMENT', `--${f.flag} must be between ${f.min} and ${max}`);
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
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(NUMBER_FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
        only: { type: 'string' },
        scenario: { type: 'string' },
        quick: { type: 'boolean' },
        report: { type: 'string' },
        'no-report': { type: 'boolean' },
        json: { type: 'string' },
        'redis-url': { type: 'string' },
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
  const text = (name: string) => values[name] as string | undefined;
  const options: BenchOptions = {
    ...d,
    only: values.only === undefined ? null : list(text('only')!).map((n) => targetNamed(n).name),
    scenarios: values.scenario === undefined ? d.scenarios : list(text('scenario')!).map(scenario),
    report: values['no-report'] ? null : (text('report') ?? d.report),
    json: text('json') ?? null,
    redisUrl: redisUrl(text('redis-url') ?? d.redisUrl),
  };
  for (const f of NUMBER_FLAGS) {
    if (f.key === 'senders') continue; // below: bounded by the clients
    options[f.key] = numberFlag(f, text(f.flag), d[f.key]);
  }
  const senders = NUMBER_FLAGS.find((f) => f.key === 'senders')!;
  const { clients } = options;
  options.senders = numberFlag(senders, text('senders'), Math.min(d.senders, clients), clients);
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

/** Only `redis://` on loopback: the benchmark contacts nothing but this machine. */
function redisUrl(text: string): string {
  if (!/^redis:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(text)) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `--redis-url must be redis://127.0.0.1:PORT (this machine), got "${text}"`,
    );
  }
  return text;
}
