/**
 * The benchmark's flags: one table gives each number flag its option, its
 * default, its `--quick` value, its range and its `--help` line. The
 * defaults describe a small, busy chat room and a big, mostly silent one, and
 * keep a full run under about twenty minutes on 2 cores. Every value is
 * bounded: a benchmark that can be told to open a million sockets will one
 * day be told to.
 *
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { argumentError } from '../shared/src/cli';
import { ChatError } from '../shared/src/errors';
import { targetNamed } from './targets';

/**
 * What can be measured: `fanout` and `idle` for every target; `logins` and
 * `burst` for stage 6; `scale` for raw and stage 6; `cluster` for stage 9.
 */
export const SCENARIOS = ['fanout', 'idle', 'logins', 'burst', 'scale', 'cluster'] as const;

/** One of {@link SCENARIOS}. */
export type Scenario = (typeof SCENARIOS)[number];

/** Where the Markdown report goes by default (its charts go next to it, in `benchmarks/`). */
export const DEFAULT_REPORT = path.join('docs', 'benchmarks.md');

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const WORKERS = Math.max(1, os.availableParallelism() - 1);

// [flag, option, default, --quick, min, max, help]; `S`/`R` in the help's
// value name marks a flag that takes fractions.
const NUMBER_FLAGS = [
  ['clients', 'clients', 50, 10, 2, 2000, 'N', 'clients in the fan-out room'],
  ['senders', 'senders', 10, 2, 1, 2000, 'N', 'how many of them send'],
  ['window', 'window', 32, null, 1, 1000, 'N', 'messages in flight per sender'],
  // The paced fan-out behind the CPU goals: one sender at this rate, so every
  // server gets the same reads (fanout.ts). Far below every judged target's
  // capacity; 0 leaves it out (and the CPU goals unjudged).
  ['pace', 'pace', 1000, null, 0, 100_000, 'R', "paced fan-out's msg/s, one sender; 0 = skip"],
  ['seconds', 'seconds', 5, 1, 0.2, 600, 'S', 'measured seconds per fan-out round'],
  ['warmup', 'warmupSeconds', 1, 0.5, 0, 60, 'S', 'warm-up before a closed-loop round'],
  // Longer than the closed loop's: at a pace, the relay path gets hot slowly,
  // and until V8 has compiled it (in the server and in the load process),
  // compiling and slower code are measured as the server's cost per message
  // (bench/README.md, "Paced rounds warm up for longer").
  ['paced-warmup', 'pacedWarmupSeconds', 10, 1, 0, 120, 'S', 'warm-up before a paced round'],
  ['rounds', 'rounds', 3, 1, 1, 50, 'N', 'rounds; the median is shown'],
  ['idle', 'idle', 1000, 200, 0, 10_000, 'N', 'idle connections for memory, 0 = skip'],
  ['scale', 'scale', 10_000, 1000, 0, 20_000, 'N', 'idle users in the scale scenario, 0 = skip'],
  ['active', 'active', 100, 20, 2, 1000, 'N', 'clients chatting in the scale scenario'],
  // Low on purpose: with 10,000 in the room every message costs 10,000
  // writes; the question is what the crowd costs a conversation, not where
  // the server saturates (the fan-out asks that).
  ['active-rate', 'activeRate', 5, 10, 1, 1000, 'R', 'their messages per second, all together'],
  ['scale-seconds', 'scaleSeconds', 15, 3, 0.5, 600, 'S', 'measured seconds of that chat, each'],
  ['scale-rounds', 'scaleRounds', 2, 1, 1, 50, 'N', 'rounds of the scale scenario'],
  ['bytes', 'payloadBytes', 64, null, 48, 4000, 'N', 'chat message size in bytes'],
  ['bcrypt-cost', 'bcryptCost', 12, 10, 4, 16, 'N', 'stage 6 cost in logins and burst'],
  // The stage 6 server's own default: one core is left for the event loop.
  ['hash-workers', 'hashWorkers', WORKERS, null, 1, 64, 'N', 'stage 6 hash threads, cores - 1'],
  ['logins', 'logins', 20, 6, 1, 1000, 'N', 'logins per round (logins scenario)'],
  ['login-clients', 'loginClients', 8, 3, 1, 200, 'N', 'logins in flight at once'],
  ['burst', 'burst', 50, 10, 1, 500, 'N', 'logins at once (burst scenario)'],
  ['chatters', 'chatters', 4, 3, 2, 50, 'N', 'clients chatting during the burst'],
] as const;

type NumberOption = (typeof NUMBER_FLAGS)[number][1];

/**
 * Everything a run needs to know: every number flag's option (see the
 * `--help` text), and the rest below.
 */
export interface BenchOptions extends Record<NumberOption, number> {
  /** Run only these targets (by name), or every target when null. */
  only: string[] | null;
  /** The scenarios to run. */
  scenarios: Scenario[];
  /** True when `--quick` chose the sizes (a smoke run, not for comparison). */
  quick: boolean;
  /** Write the Markdown report (and its charts) here; null: no report file. */
  report: string | null;
  /** Also write the full results as JSON to this file. */
  json: string | null;
  /** The Redis the cluster scenario's nodes share (`redis://127.0.0.1:PORT`). */
  redisUrl: string;
}

const numbers = (quick: boolean) =>
  Object.fromEntries(
    NUMBER_FLAGS.flatMap(([, key, full, small]) =>
      quick && small === null ? [] : [[key, quick ? small : full]],
    ),
  ) as Record<NumberOption, number>;

/** The defaults, as documented in bench/README.md. */
export const DEFAULT_OPTIONS: Readonly<BenchOptions> = {
  ...numbers(false),
  only: null,
  scenarios: [...SCENARIOS],
  quick: false,
  report: DEFAULT_REPORT,
  json: null,
  redisUrl: DEFAULT_REDIS_URL,
};

/** What `--quick` changes: every size small and one round, every scenario still run. */
export const QUICK_OPTIONS: Readonly<Partial<BenchOptions>> = { ...numbers(true), quick: true };

/** The `--help` text. */
export const USAGE = [
  'usage: npm run bench -- [flags]',
  ...NUMBER_FLAGS.map(
    ([flag, key, , , min, max, value, help]) =>
      `  ${`--${flag} ${value}`.padEnd(19)}${help.padEnd(45)}` +
      `(default ${DEFAULT_OPTIONS[key]}, ${min}-${max})`,
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

/**
 * Parses the benchmark's flags.
 *
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
        ...Object.fromEntries(NUMBER_FLAGS.map(([flag]) => [flag, { type: 'string' as const }])),
        ...Object.fromEntries(
          ['only', 'scenario', 'report', 'json', 'redis-url'].map((f) => [f, { type: 'string' }]),
        ),
        quick: { type: 'boolean' },
        'no-report': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw argumentError(err);
  }
  if (values.help) return 'help';
  const text = (name: string) => values[name] as string | undefined;
  if (text('report') !== undefined && values['no-report']) {
    throw new ChatError('BAD_ARGUMENT', '--report and --no-report exclude each other');
  }
  const d: BenchOptions = { ...DEFAULT_OPTIONS, ...(values.quick ? QUICK_OPTIONS : {}) };
  const options: BenchOptions = {
    ...d,
    only: values.only === undefined ? null : list(text('only')!).map((n) => targetNamed(n).name),
    scenarios: values.scenario === undefined ? d.scenarios : list(text('scenario')!).map(scenario),
    report: values['no-report'] ? null : (text('report') ?? d.report),
    json: text('json') ?? null,
    redisUrl: redisUrl(text('redis-url') ?? d.redisUrl),
  };
  // In table order, so `--senders` is read after `--clients`, which bounds it.
  for (const [flag, key, , , min, tableMax, value] of NUMBER_FLAGS) {
    const raw = text(flag);
    const max = key === 'senders' ? options.clients : tableMax;
    if (raw === undefined) {
      options[key] = key === 'senders' ? Math.min(d.senders, max) : d[key];
      continue;
    }
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || (value === 'N' && !Number.isInteger(n))) {
      throw new ChatError('BAD_ARGUMENT', `--${flag} must be a number, got "${raw}"`);
    }
    if (n < min || n > max) {
      throw new ChatError('BAD_ARGUMENT', `--${flag} must be between ${min} and ${max}`);
    }
    options[key] = n;
  }
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
  if (found !== undefined) return found;
  const known = SCENARIOS.join(', ');
  throw new ChatError('BAD_ARGUMENT', `unknown scenario "${name}" (known: ${known})`);
}

/** Only `redis://` on loopback: the benchmark contacts nothing but this machine. */
function redisUrl(text: string): string {
  if (/^redis:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(text)) return text;
  throw new ChatError(
    'BAD_ARGUMENT',
    `--redis-url must be redis://127.0.0.1:PORT (this machine), got "${text}"`,
  );
}
