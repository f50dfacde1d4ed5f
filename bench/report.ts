/**
 * Turns a run into what a person reads: sections of text lines and Markdown
 * tables, printed as they are (`formatReport`) and written to
 * docs/benchmarks.md under headings, with charts (`writeMarkdownReport`).
 * The page is generated, never typed: every number comes from the run.
 *
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult, RoundMeasurement } from './bench';
import { buildCharts, CHART_NAMES, type ChartFile } from './charts';
import { CHAT_SCENARIO_BCRYPT_COST } from './clients';
import { CLUSTER_LAYOUTS, type ClusterLayout, type ClusterMeasurement } from './cluster';
import {
  CHAT_INTERVAL_MS,
  QUIET_SECONDS,
  type BurstMeasurement,
  type LoginMeasurement,
} from './logins';
import { cell, format, formatRatio, table } from './report-format';
import type { ChatPeriod, ScaleMeasurement } from './scale';
import type { LatencySummary } from './stats';
import type { Target } from './target';
import { BASELINE } from './targets';
import {
  burstVerdict,
  compare,
  compareScale,
  judgementText,
  layoutName,
  layoutRows,
  MAX_BURST_P99_RATIO,
  MAX_SCALE_MEMORY_RATIO,
  MAX_SCALE_P99_RATIO,
  medianOf,
  METRICS,
  rowsOf,
  verdicts,
  type Comparison,
  type Judgement,
} from './verdicts';

/** One part of the report, and its heading in docs/benchmarks.md. */
const HEADINGS = {
  goals: 'Goals',
  fanout: 'Fan-out: throughput and latency',
  idle: 'Memory per idle connection',
  logins: 'Stage 6: logins per second',
  burst: 'Stage 6: chat during a burst of logins',
  scale: 'Scale: thousands of idle users',
  cluster: 'Stage 9: fan-out across nodes over Redis',
};

/** One part of the report: plain text lines, and Markdown tables (lines starting with `|`). */
export interface ReportSection {
  /** Which part. */
  id: keyof typeof HEADINGS;
  /** Its lines. */
  lines: string[];
}

/** CPU use, in percent of one core, above which a process counts as saturated. */
const SATURATED = 90;

/** A table column: its title, its digits, and its number in one round. */
type Column<M> = [title: string, digits: number, value: (m: M) => number];

const FANOUT_COLUMNS: Column<RoundMeasurement>[] = [
  ['delivered msg/s', 0, METRICS.throughput],
  ['p50 ms', 1, (m) => m.fanout?.p50Ms ?? NaN],
  ['p90 ms', 1, (m) => m.fanout?.p90Ms ?? NaN],
  ['p99 ms', 1, (m) => m.fanout?.p99Ms ?? NaN],
  ['server CPU %', 0, METRICS.serverCpu],
  ['server CPU µs/msg', 2, METRICS.busyCpuPerMessage],
  ['load CPU %', 0, METRICS.loadCpu],
  ['load CPU µs/msg', 2, METRICS.loadCpuPerMessage],
];

const PACED_COLUMNS: Column<RoundMeasurement>[] = [
  ['sent msg/s', 0, (m) => m.paced?.sentPerSecond ?? NaN],
  ['delivered msg/s', 0, (m) => m.paced?.deliveredPerSecond ?? NaN],
  ['p99 ms', 1, (m) => m.paced?.p99Ms ?? NaN],
  ['server CPU %', 0, (m) => m.paced?.serverCpuPercent ?? NaN],
  ['server CPU µs/msg', 2, METRICS.cpuPerMessage],
];

const IDLE_COLUMNS: Column<RoundMeasurement>[] = [
  ['RSS KiB/idle conn', 2, METRICS.memory],
  ['heap KiB/idle conn', 2, (m) => m.idle?.heapPerConnectionKiB ?? NaN],
  ['baseline RSS MiB', 1, (m) => (m.idle?.baselineRssKiB ?? NaN) / 1024],
];

const LOGIN_COLUMNS: Column<LoginMeasurement>[] = [
  ['logins/s', 2, (m) => m.loginsPerSecond],
  ['t_hash ms', 0, (m) => m.hashMs],
  ['max logins/s', 2, (m) => m.maxLoginsPerSecond],
  ['ratio', 2, (m) => m.ratio],
  ['login p50 ms', 0, (m) => m.p50Ms],
  ['server CPU %', 0, (m) => m.serverCpuPercent],
];

/** The chat latency columns the burst and scale tables share. */
const CHAT_COLUMNS: Column<LatencySummary>[] = [
  ['chat p50 ms', 2, (p) => p.p50Ms],
  ['p90 ms', 2, (p) => p.p90Ms],
  ['p99 ms', 2, (p) => p.p99Ms],
  ['max ms', 1, (p) => p.maxMs],
];

const BURST_LOGIN_COLUMNS: Column<BurstMeasurement>[] = [
  ['logins in', 0, (m) => m.loginsOk],
  ['refused for good', 0, (m) => m.loginsFailed],
  ['told to retry', 0, (m) => m.loginsRetried],
  ['"busy" answers', 0, (m) => m.busyAnswers],
  ['main-thread stall ms', 1, (m) => m.stallMs ?? NaN],
];

const SCALE_COLUMNS: Column<ScaleMeasurement>[] = [
  ['idle connected', 0, (m) => m.opened],
  ['connect s', 1, (m) => m.connectSeconds],
  ['server CPU s', 1, (m) => m.connectCpuSeconds],
  ['RSS KiB/conn', 2, (m) => m.rssPerConnectionKiB],
  ['heap KiB/conn', 2, (m) => m.heapPerConnectionKiB ?? NaN],
  ['RSS MiB before', 1, (m) => m.baselineRssKiB / 1024],
];

const CLUSTER_COLUMNS: Column<ClusterMeasurement>[] = [
  ['delivered msg/s', 0, (m) => m.deliveredPerSecond],
  ['p50 ms', 1, (m) => m.p50Ms],
  ['p99 ms', 1, (m) => m.p99Ms],
  ['nodes CPU µs/msg (sum)', 2, (m) => m.serverCpuUsPerMessage],
  ['Redis CPU µs/msg sent', 2, (m) => (m.redis ? m.redisCpuUsPerMessage : NaN)],
  ['load CPU %', 0, (m) => m.loadCpuPercent],
];

/** A table's header: the rows' own labels, then the columns' titles. */
function header<M>(labels: string[], columns: Column<M>[]): string[] {
  return [...labels, ...columns.map(([title]) => title)];
}

/** A table row: its labels, then a "median (min–max)" cell per column over `rounds`. */
function row<M>(labels: string[], columns: Column<M>[], rounds: M[], count = rounds.length) {
  return [...labels, ...columns.map(([, digits, value]) => cell(rounds.map(value), digits, count))];
}

/** An open-file limit in words (null: unknown). */
const fileLimit = (value: number | null) =>
  value === null ? 'unknown' : Number.isFinite(value) ? String(value) : 'unlimited';

/** ` (goal <= 2x: met)` after a ratio, or nothing when it has no goal. */
function goalText(sign: '<=' | '>=', limit: number | undefined, j: Judgement | null): string {
  if (limit === undefined) return '';
  return ` (goal ${sign} ${limit}x${j === null ? '' : `: ${judgementText(j, true)}`})`;
}

/** The report's sections, in order; sections that did not run are left out. */
export function reportSections(result: BenchResult): ReportSection[] {
  const goals = verdicts(result).map((v) => [v.goal, v.measured, judgementText(v)]);
  const sections: ReportSection[] = [
    { id: 'fanout', lines: fanoutLines(result) },
    { id: 'idle', lines: idleLines(result) },
    { id: 'logins', lines: loginsLines(result) },
    { id: 'burst', lines: burstLines(result) },
    { id: 'scale', lines: scaleLines(result) },
    { id: 'cluster', lines: clusterLines(result) },
    {
      id: 'goals',
      lines: goals.length === 0 ? [] : [table([['goal', 'measured', 'verdict'], ...goals])],
    },
  ];
  return sections.filter((s) => s.lines.length > 0);
}

/** The report for the terminal (its tables are Markdown too). */
export function formatReport(result: BenchResult): string {
  const m = result.machine;
  const ports = m.localPortRange ? `, ephemeral ports ${m.localPortRange.join('-')}` : '';
  const out = [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ` +
      `open files soft ${fileLimit(m.openFilesLimit)} / hard ${fileLimit(m.openFilesHardLimit)} ` +
      `(bench processes: ${fileLimit(m.openFilesForBench)})${ports}; ${m.date}`,
  ];
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  for (const section of reportSections(result)) out.push('', ...section.lines);
  return out.join('\n');
}

/** The targets that measured one part (fan-out, paced fan-out or idle), and their table. */
function targetTable(result: BenchResult, part: 'fanout' | 'paced' | 'idle') {
  const columns = { fanout: FANOUT_COLUMNS, paced: PACED_COLUMNS, idle: IDLE_COLUMNS }[part];
  const targets = result.targets.filter((t) =>
    rowsOf(result.rounds, t.name).some((r) => r[part] !== null),
  );
  const text = table([
    header(['target'], columns),
    ...targets.map((t) =>
      row([t.name], columns, rowsOf(result.rounds, t.name), result.options.rounds),
    ),
  ]);
  return { targets, text };
}

/** The goals of a comparison's target, if it is judged against that baseline. */
function goalsOf(result: BenchResult, c: Comparison): Target['goals'] {
  return c.judged ? result.targets.find((t) => t.name === c.target)?.goals : undefined;
}

/** The fan-out section: a table of targets, the ratios, notes and warnings. */
function fanoutLines(result: BenchResult): string[] {
  const o = result.options;
  const { targets, text } = targetTable(result, 'fanout');
  if (targets.length === 0) return [];
  const lines = [
    `fan-out: ${o.clients} clients, ${o.senders} senders, window ${o.window}, ` +
      `${o.payloadBytes}-byte messages, ${o.seconds} s measured after ${o.warmupSeconds} s ` +
      `warm-up; ${o.rounds} round(s), median (min–max)`,
    '',
    text,
    '',
  ];
  const paced = targetTable(result, 'paced');
  if (paced.targets.length > 0) {
    lines.push(
      `paced: 1 sender at ${o.pace} msg/s after ${o.pacedWarmupSeconds} s warm-up, the same ` +
        `reads for every server, so server CPU per message compares code, not batching ` +
        `(the CPU ratios below come from here)`,
      '',
      paced.text,
      '',
    );
  }
  lines.push(...compare(result).flatMap((c) => fanoutRatios(result, c)));
  // Which side ran out of CPU decides what "delivered msg/s" measured.
  for (const t of targets) {
    const rounds = rowsOf(result.rounds, t.name);
    if (medianOf(rounds, METRICS.serverCpu) >= SATURATED) {
      lines.push(`note: ${t.name}: the server used a whole core; msg/s is its own limit`);
    } else if (medianOf(rounds, METRICS.loadCpu) >= SATURATED) {
      lines.push(
        `note: ${t.name}: the load process used a whole core; msg/s is the load generator's ` +
          `limit, and server CPU µs/msg shows the server's own cost`,
      );
    }
  }
  for (const t of targets) {
    const own = t.baseline ?? BASELINE.name;
    if (t.goals && !result.targets.some((b) => b.name === own)) {
      lines.push(`note: ${t.name}: its baseline ${own} was not in this run, so no goal is checked`);
    }
  }
  for (const r of result.rounds) {
    const lost = r.fanout?.lost ?? 0;
    const dropped = r.fanout?.disconnected ?? 0;
    if (lost + dropped > 0) {
      lines.push(
        `warning: ${r.target} round ${r.round}: ${lost} deliveries lost, ` +
          `${dropped} fan-out clients disconnected`,
      );
    }
  }
  return lines;
}

/** One comparison's fan-out ratios, with their goals (no line if it has none). */
function fanoutRatios(result: BenchResult, c: Comparison): string[] {
  const goals = goalsOf(result, c);
  const parts: string[] = [];
  if (Number.isFinite(c.throughputRatio)) {
    const goal = goalText('>=', goals?.minThroughputRatio, c.throughputVerdict);
    parts.push(`throughput ${formatRatio(c.throughputRatio, goals?.minThroughputRatio)}x${goal}`);
  }
  const max = goals?.maxCpuPerMessageRatio;
  const rounds = c.cpuPerMessageRounds;
  const judged = c.cpuPerMessageVerdict;
  const range = `rounds ${format(Math.min(...rounds), 2)}–${format(Math.max(...rounds), 2)}x`;
  const detail = [
    rounds.length < 2 ? '' : range,
    max === undefined || judged === null ? '' : `target <= ${max}x: ${judgementText(judged)}`,
  ]
    .filter((d) => d !== '')
    .join('; ');
  if (Number.isFinite(c.cpuPerMessageRatio)) {
    const brackets = detail ? ` (${detail})` : '';
    parts.push(`server CPU per message ${formatRatio(c.cpuPerMessageRatio, max)}x${brackets}`);
  } else if (max !== undefined) {
    parts.push(`server CPU per message: inconclusive (target <= ${max}x)`);
  }
  if (parts.length === 0) return [];
  // A target whose clients do more work than the baseline's is not judged against it.
  const unfair = c.judged ? '' : ' [different client work: not judged]';
  return [`${c.target} / ${c.baseline}: ${parts.join(', ')}${unfair}`];
}

/** The idle section: a table of targets, the memory ratios, notes and warnings. */
function idleLines(result: BenchResult): string[] {
  const o = result.options;
  const { targets, text } = targetTable(result, 'idle');
  if (targets.length === 0) return [];
  const lines = [
    `idle: ${o.idle} connections; RSS after full GCs, young generation excluded; ` +
      `${o.rounds} round(s), median (min–max)`,
    '',
    text,
    '',
    ...compare(result)
      .filter((c) => Number.isFinite(c.memoryRatio))
      .map(
        (c) =>
          `${c.target} / ${c.baseline}: memory per idle connection ${formatRatio(c.memoryRatio, goalsOf(result, c)?.maxMemoryRatio)}x` +
          goalText('<=', goalsOf(result, c)?.maxMemoryRatio, c.memoryVerdict),
      ),
  ];
  for (const r of result.rounds) {
    if (r.idle && r.idle.disconnected > 0) {
      lines.push(
        `warning: ${r.target} round ${r.round}: ${r.idle.disconnected} idle clients disconnected`,
      );
    }
  }
  if (targets.some((t) => t.name === 'stage6')) {
    lines.push(
      `note: stage6 also runs a bcrypt worker thread whose heap moves by a few MiB between ` +
        `readings, several KiB per connection at ${format(o.idle, 0)} ` +
        `connections; its memory goal is judged with 10,000 connections in the scale section`,
    );
  }
  return lines;
}

/** Logins per second against the hashing workers' theoretical maximum. */
function loginsLines(result: BenchResult): string[] {
  const { logins, options: o } = result;
  if (logins.length === 0) return [];
  const lines = [
    `stage6 logins: bcrypt cost ${o.bcryptCost}, ${o.hashWorkers} hashing worker(s), ` +
      `${o.loginClients} clients logging in at once, ${o.logins} logins per round; ` +
      `every other server setting as shipped`,
    '',
    table([header([], LOGIN_COLUMNS), row([], LOGIN_COLUMNS, logins)]),
    '',
    `stage6 logins: ${format(
      medianOf(logins, (m) => m.ratio),
      2,
    )}x the theoretical maximum ` +
      `(workers / t_hash = ${o.hashWorkers} / t_hash, t_hash timed in this run)`,
  ];
  for (const m of logins) {
    if (m.failed > 0) {
      lines.push(`warning: logins round ${m.round}: ${m.failed} failed (${m.firstError})`);
    }
    if (m.busyAnswers > 0) {
      lines.push(
        `note: logins round ${m.round}: ${m.busyAnswers} "busy, try again" answers waited out`,
      );
    }
  }
  return lines;
}

/** Chat latency during a burst of logins against the same chat with none. */
function burstLines(result: BenchResult): string[] {
  const { bursts, options: o } = result;
  if (bursts.length === 0) return [];
  const chat: Column<LatencySummary>[] = [...CHAT_COLUMNS, ['samples', 0, (p) => p.samples]];
  const lasted = cell(
    bursts.map((m) => m.burstSeconds),
    1,
    bursts.length,
  );
  const lines = [
    `stage6 chat during a login burst: ${o.chatters} clients chatting (one message each ` +
      `every ${CHAT_INTERVAL_MS} ms), then ${o.burst} logins at once at cost ${o.bcryptCost}, ` +
      `from one address, against the server as shipped`,
    '',
    table([
      [...header(['period'], chat), 'lasted s'],
      [
        ...row(
          ['no logins'],
          chat,
          bursts.map((m) => m.quiet),
        ),
        String(QUIET_SECONDS),
      ],
      [
        ...row(
          [`${o.burst} logins`],
          chat,
          bursts.map((m) => m.burst),
        ),
        lasted,
      ],
    ]),
    '',
    `stage6 chat p99 during logins / without: ${formatRatio(
      medianOf(bursts, (m) => m.p99Ratio),
      MAX_BURST_P99_RATIO,
    )}x` + goalText('<=', MAX_BURST_P99_RATIO, burstVerdict(result)),
    '',
    table([header([], BURST_LOGIN_COLUMNS), row([], BURST_LOGIN_COLUMNS, bursts)]),
    '',
    `stage6 burst: "told to retry" logins got SERVICE_UNAVAILABLE with a retryAfterMs ` +
      `(the queue would not answer them in time, or their address had many waiting) and ` +
      `the client tried again by itself; the stall is the worst delay of a 5-ms timer on ` +
      `the server's main thread during the burst (bcrypt runs in a worker thread)`,
  ];
  for (const m of bursts) {
    if (m.loginsFailed > 0 || m.lost > 0) {
      lines.push(
        `warning: burst round ${m.round}: ${m.loginsFailed} logins failed` +
          `${m.firstError ? ` (${m.firstError})` : ''}, ${m.lost} chat deliveries lost`,
      );
    }
  }
  return lines;
}

/** Memory per connection with thousands idle, and the chat with and without them. */
function scaleLines(result: BenchResult): string[] {
  const { scale, options: o } = result;
  if (scale.length === 0) return [];
  const users = format(o.scale, 0);
  const targets = [...new Set(scale.map((m) => m.target))];
  const rounds = Math.max(...targets.map((t) => rowsOf(scale, t).length));
  const chat: Column<ChatPeriod>[] = [
    ...CHAT_COLUMNS,
    ['server CPU %', 0, (p) => p.serverCpuPercent],
  ];
  const period = (t: string, name: 'quiet' | 'crowded') => {
    const periods = rowsOf(scale, t).map((m) => m[name]);
    return row([t, name === 'quiet' ? 'none' : users], chat, periods, rounds);
  };
  const lines = [
    `scale: ${users} idle clients (stage 6: registered and logged in at bcrypt ` +
      `cost ${CHAT_SCENARIO_BCRYPT_COST}, a bench-only setting), held by ` +
      `${scale[0]!.loadProcesses} load process(es); ${o.active} active clients chatting ` +
      `at ${o.activeRate} messages/s in all, ${o.scaleSeconds} s measured per period. The ` +
      `active clients join before the idle ones, so each broadcast reaches them first; the ` +
      `server still writes every message to every member (its CPU column shows that cost).`,
    '',
    table([
      header(['target'], SCALE_COLUMNS),
      ...targets.map((t) => row([t], SCALE_COLUMNS, rowsOf(scale, t), rounds)),
    ]),
    '',
    table([
      header(['target', 'idle users'], chat),
      ...targets.flatMap((t) => [period(t, 'quiet'), period(t, 'crowded')]),
    ]),
    '',
  ];
  const c = compareScale(result);
  if (c.memoryVerdict !== null) {
    lines.push(
      `stage6 / raw: memory per connection with ${users} idle ${formatRatio(c.memoryRatio, MAX_SCALE_MEMORY_RATIO)}x` +
        goalText('<=', MAX_SCALE_MEMORY_RATIO, c.memoryVerdict),
    );
  }
  if (c.p99Verdict !== null) {
    const raw = Number.isFinite(c.rawP99Ratio)
      ? `; raw in the same scenario: ${format(c.rawP99Ratio, 2)}x`
      : '';
    lines.push(
      `stage6 chat p99 with ${users} idle / without: ${formatRatio(c.p99Ratio, MAX_SCALE_P99_RATIO)}x` +
        goalText('<=', MAX_SCALE_P99_RATIO, c.p99Verdict) +
        raw,
    );
  }
  const limits = [...new Set(scale.flatMap((m) => [m.serverOpenFiles, m.loadOpenFiles]))];
  lines.push(
    `open files: the servers and load processes ran with a soft limit of ` +
      `${limits.map((l) => (l === null ? 'unknown' : format(l, 0))).join(' / ')}`,
  );
  for (const m of scale) {
    const lost = m.quiet.lost + m.crowded.lost;
    if (m.opened !== m.requested || m.disconnected > 0 || lost > 0) {
      lines.push(
        `warning: scale ${m.target} round ${m.round}: ${m.opened} of ${m.requested} idle ` +
          `clients connected${m.firstError ? ` (${m.firstError})` : ''}, ` +
          `${m.disconnected} disconnected, ${lost} chat deliveries lost`,
      );
    }
  }
  return lines;
}

/**
 * The cluster section: one row per layout, the latency the Redis hop adds,
 * what 2 cores cannot show, and a capacity model from the measured costs.
 */
function clusterLines(result: BenchResult): string[] {
  const o = result.options;
  if (result.clusterSkipped !== null) {
    return [`cluster (stage 9): not run, inconclusive: ${result.clusterSkipped}`];
  }
  if (result.cluster.length === 0) return [];
  const median = (layout: ClusterLayout, value: (m: ClusterMeasurement) => number) =>
    medianOf(layoutRows(result, layout), value);
  const ran = CLUSTER_LAYOUTS.filter((l) => layoutRows(result, l).length > 0);
  // The Redis hop: the same server, with and without Redis in between.
  const hop = (value: (m: ClusterMeasurement) => number) =>
    format(median({ nodes: 1, redis: true }, value) - median({ nodes: 1, redis: false }, value), 2);
  const lines = [
    `cluster (stage 9 over ${o.redisUrl}): ${o.clients} clients spread over the nodes, ` +
      `${o.senders} senders, window ${o.window}, ${o.seconds} s measured; ${o.rounds} round(s), ` +
      'median (min–max)',
    '',
    table([
      header(['layout'], CLUSTER_COLUMNS),
      ...ran.map((l) => row([layoutName(l)], CLUSTER_COLUMNS, layoutRows(result, l), o.rounds)),
    ]),
    '',
    `the Redis hop adds p50 ${hop((m) => m.p50Ms)} ms, p99 ${hop((m) => m.p99Ms)} ms ` +
      '(1 node via Redis minus 1 node alone: the same server, with and without Redis between; ' +
      'a difference below zero is noise)',
    `note: this machine has ${result.machine.cores} core(s), shared by every node, Redis and ` +
      'the load process: more nodes cannot deliver more here, so this run cannot show scaling. ' +
      'Read the costs per message, not msg/s.',
    'note: Redis CPU counts every client of that Redis during the measured seconds, not only ' +
      "this run's nodes: an upper bound on a shared machine",
  ];
  // What the costs predict with a core per node: each node makes its share
  // of the deliveries; Redis, one thread, handles each message once per node.
  const largest = ran.findLast((l) => l.redis);
  const nodeUs = largest ? median(largest, (m) => m.serverCpuUsPerMessage) : NaN;
  const redisUs = largest ? median(largest, (m) => m.redisCpuUsPerMessage) : NaN;
  if (largest && nodeUs > 0 && redisUs > 0) {
    const perNode = 1e6 / nodeUs;
    lines.push(
      `capacity model (from ${layoutName(largest)}; one core per node, a room of ` +
        `${o.clients}): a node's core makes about ${format(perNode, 0)} ` +
        `deliveries/s, so N nodes carry about N × ${format(perNode / (o.clients - 1), 0)} sent ` +
        `msg/s; Redis, one thread, caps the room near ${format(1e6 / redisUs, 0)} sent msg/s ` +
        `(at ${largest.nodes} subscribing nodes; each more node adds to Redis's cost per message). ` +
        'The costs were measured with every process on the same few cores, at a lower rate than ' +
        'one node alone (less batching per read): a pessimistic model',
    );
  }
  for (const m of result.cluster) {
    if (m.lost + m.disconnected > 0) {
      lines.push(
        `warning: stage9 ${layoutName(m)} round ${m.round}: ${m.lost} deliveries lost, ` +
          `${m.disconnected} clients disconnected`,
      );
    }
  }
  return lines;
}

/**
 * The Markdown page for a finished run: the machine, then the sections under
 * headings (goals first: they are what most readers came for), each with its
 * charts, linked relative to the page. Laid out as Prettier would lay it out,
 * so `prettier --check` accepts the generated file.
 *
 * @param chartDir - where the charts are, relative to the page (e.g. `benchmarks`)
 */
export function formatMarkdownReport(
  result: BenchResult,
  charts: ChartFile[],
  chartDir: string,
): string {
  const m = result.machine;
  const o = result.options;
  const minutes = Number.isFinite(result.seconds)
    ? ` It took ${format(result.seconds / 60, 1)} minutes.`
    : '';
  const blocks: string[] = [
    '---\ntitle: Benchmark results\n---',
    '# Benchmark results',
    `This page is generated by \`${result.command}\` (bench/run.ts) and is rewritten by every ` +
      `run: do not edit it by hand. The numbers below come from the run of ${m.date}.${minutes}`,
  ];
  if (o.quick) {
    blocks.push(
      '**This is a `--quick` smoke run**: small sizes and one round, to check that every ' +
        'scenario works. Its numbers are not for comparison; `npm run bench` writes the full report.',
    );
  }
  const ports = m.localPortRange;
  const portRange = ports
    ? `${ports.join('–')} (${format(ports[1] - ports[0] + 1, 0)} ports)`
    : 'unknown';
  const scaleRounds = result.scale.length > 0 ? ` (scale scenario: ${o.scaleRounds})` : '';
  const openFiles =
    `soft limit ${fileLimit(m.openFilesLimit)}, hard limit ${fileLimit(m.openFilesHardLimit)}; ` +
    `the servers and load processes ran with ${fileLimit(m.openFilesForBench)}`;
  blocks.push(
    'How and why each number is measured is explained in the ' +
      '[benchmark README](../bench/README.md). In short: every server runs in its own process ' +
      'next to a raw Node broadcaster (the baseline), on the same machine, in the same run; ' +
      'every figure is the median of the rounds, with the smallest and largest round in ' +
      'brackets (min–max); every goal is the median of a ratio taken within each round, ' +
      'the server against its baseline measured beside it.',
    '## Machine',
    table([
      ['', ''],
      ['CPU', `${m.cpuModel}, ${m.cores} cores`],
      ['memory', `${m.memoryGiB} GiB`],
      ['OS', m.os],
      ['Node', m.node],
      ['open files', openFiles],
      ['ephemeral ports', portRange],
      ['rounds', `${o.rounds}${scaleRounds}`],
      ['date', m.date],
    ]),
  );
  for (const s of result.skipped) blocks.push(`Skipped ${s.target}: ${s.reason}.`);
  const sections = reportSections(result);
  for (const section of [
    ...sections.filter((s) => s.id === 'goals'),
    ...sections.filter((s) => s.id !== 'goals'),
  ]) {
    blocks.push(`## ${HEADINGS[section.id]}`);
    for (const chart of charts.filter((c) => c.section === section.id)) {
      blocks.push(`![${chart.alt}](${chartDir}/${chart.name})`);
    }
    blocks.push(...markdownBlocks(section.lines));
  }
  return blocks.join('\n\n') + '\n';
}

/** Tables as they are, a lone line of text as a paragraph, several in a row as a list. */
function markdownBlocks(lines: string[]): string[] {
  const blocks: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length === 0) return;
    if (run[0]!.startsWith('|')) blocks.push(run.join('\n'));
    else if (run.length === 1) blocks.push(sentence(run[0]!));
    else blocks.push(run.map((line) => `- ${sentence(line)}`).join('\n'));
    run = [];
  };
  for (const line of lines) {
    const isTable = line.startsWith('|');
    if (line === '' || (run.length > 0 && run[0]!.startsWith('|') !== isTable)) flush();
    if (line !== '') run.push(...line.split('\n'));
  }
  flush();
  return blocks;
}

/**
 * A terminal line (ASCII) as Markdown: `>=` and `<=` become `≥` and `≤`, and
 * the few characters Markdown would take for formatting (`*`, `<`, a `_` at
 * the edge of a word) are escaped. The lines hold no links or HTML.
 */
function sentence(line: string): string {
  return line
    .replace(/>=/g, '≥')
    .replace(/<=/g, '≤')
    .replace(/([*<])/g, '\\$1')
    .replace(/(^|\W)_|_(\W|$)/g, (match) => match.replace('_', '\\_'));
}

/**
 * Writes the report as `FILE` and its charts into a folder beside it named
 * like it (docs/benchmarks.md, docs/benchmarks/*.svg). Charts of scenarios
 * that did not run are removed, so the folder never shows an older run.
 *
 * @returns the paths written
 */
export function writeMarkdownReport(result: BenchResult, file: string): string[] {
  const chartDirName = path.basename(file, path.extname(file));
  const chartDir = path.join(path.dirname(file), chartDirName);
  const charts = buildCharts(result);
  mkdirSync(chartDir, { recursive: true });
  const written = [file];
  for (const name of CHART_NAMES) {
    const chart = charts.find((c) => c.name === name);
    const target = path.join(chartDir, name);
    if (chart) {
      writeFileSync(target, chart.svg);
      written.push(target);
    } else {
      rmSync(target, { force: true });
    }
  }
  writeFileSync(file, formatMarkdownReport(result, charts, chartDirName));
  return written;
}
