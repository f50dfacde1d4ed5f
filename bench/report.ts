/**
 * Turns a run into what a person reads: a list of sections (fan-out, idle,
 * logins, burst, scale, cluster, goals), each a few lines of text and
 * Markdown tables. The terminal gets them as they are (`formatReport`);
 * docs/benchmarks.md gets the same sections under headings, with charts
 * (`writeMarkdownReport`). The page is generated, never typed: every number
 * comes from the run, and the page names the command, the machine and the
 * date. The method lives in bench/README.md.
 *
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './bench';
import { buildCharts, CHART_NAMES, type ChartFile } from './charts';
import { CHAT_INTERVAL_MS, QUIET_SECONDS } from './logins';
import { cell, format, table } from './report-format';
import type { ChatPeriod, ScaleMeasurement } from './scale';
import { CLUSTER_LAYOUTS, type ClusterLayout, type ClusterMeasurement } from './cluster';
import { summarize, type LatencySummary } from './stats';
import { CHAT_SCENARIO_BCRYPT_COST } from './clients';
import { BASELINE } from './targets';
import {
  burstVerdict,
  clusterSummary,
  compare,
  compareScale,
  judgementText,
  layoutName,
  MAX_BURST_P99_RATIO,
  MAX_SCALE_MEMORY_RATIO,
  MAX_SCALE_P99_RATIO,
  METRICS,
  sameLayout,
  scaleSummary,
  valuesOf,
  verdicts,
  type Comparison,
  type Judgement,
  type Metric,
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

const FANOUT_COLUMNS: [string, number, Metric][] = [
  ['delivered msg/s', 0, METRICS.throughput],
  ['p50 ms', 1, (m) => m.fanout?.p50Ms ?? NaN],
  ['p90 ms', 1, (m) => m.fanout?.p90Ms ?? NaN],
  ['p99 ms', 1, (m) => m.fanout?.p99Ms ?? NaN],
  ['server CPU %', 0, METRICS.serverCpu],
  ['server CPU µs/msg', 2, METRICS.cpuPerMessage],
  ['load CPU %', 0, METRICS.loadCpu],
  ['load CPU µs/msg', 2, METRICS.loadCpuPerMessage],
];

const IDLE_COLUMNS: [string, number, Metric][] = [
  ['RSS KiB/idle conn', 2, METRICS.memory],
  ['heap KiB/idle conn', 2, (m) => m.idle?.heapPerConnectionKiB ?? NaN],
  ['baseline RSS MiB', 1, (m) => (m.idle?.baselineRssKiB ?? NaN) / 1024],
];

/** An open-file limit in words (null: unknown). */
const limit = (value: number | null) =>
  value === null ? 'unknown' : Number.isFinite(value) ? String(value) : 'unlimited';

/** `: met` after a goal, or nothing when there is no verdict. */
const verdict = (j: Judgement | null) => (j === null ? '' : `: ${judgementText(j, true)}`);

/** A "median (min–max)" cell of one number over a list of rounds. */
const col = <M>(rounds: M[], value: (m: M) => number, digits: number) =>
  cell(summarize(rounds.map(value)), digits, { rounds: rounds.length });

/** The report's sections, in order; sections that did not run are left out. */
export function reportSections(result: BenchResult): ReportSection[] {
  const sections: ReportSection[] = [];
  const add = (id: ReportSection['id'], lines: string[]) => {
    if (lines.length > 0) sections.push({ id, lines });
  };
  add('fanout', fanoutLines(result, 'fanout'));
  add('idle', fanoutLines(result, 'idle'));
  add('logins', loginsLines(result));
  add('burst', burstLines(result));
  add('scale', scaleLines(result));
  add('cluster', clusterLines(result));
  const goals = verdicts(result);
  if (goals.length > 0) {
    add('goals', [
      table([
        ['goal', 'measured', 'verdict'],
        ...goals.map((v) => [v.goal, v.measured, judgementText(v)]),
      ]),
    ]);
  }
  return sections;
}

/** The report for the terminal (its tables are Markdown too). */
export function formatReport(result: BenchResult): string {
  const m = result.machine;
  const ports = m.localPortRange ? `, ephemeral ports ${m.localPortRange.join('-')}` : '';
  const out = [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ` +
      `open files soft ${limit(m.openFilesLimit)} / hard ${limit(m.openFilesHardLimit)} ` +
      `(bench processes: ${limit(m.openFilesForBench)})${ports}; ${m.date}`,
  ];
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  for (const section of reportSections(result)) out.push('', ...section.lines);
  return out.join('\n');
}

/** The fan-out or the idle section: a table per target, the ratios, notes and warnings. */
function fanoutLines(result: BenchResult, part: 'fanout' | 'idle'): string[] {
  const o = result.options;
  const targets = result.targets.filter((t) =>
    result.rounds.some((r) => r.target === t.name && r[part] !== null),
  );
  if (targets.length === 0) return [];
  const columns = part === 'fanout' ? FANOUT_COLUMNS : IDLE_COLUMNS;
  const heading =
    part === 'fanout'
      ? `fan-out: ${o.clients} clients, ${o.senders} senders, window ${o.window}, ` +
        `${o.payloadBytes}-byte messages, ${o.seconds} s measured after ${o.warmupSeconds} s ` +
        `warm-up; ${o.rounds} round(s), median (min–max)`
      : `idle: ${o.idle} connections; RSS after full GCs, young generation excluded; ` +
        `${o.rounds} round(s), median (min–max)`;
  const lines = [
    heading,
    '',
    table([
      ['target', ...columns.map(([title]) => title)],
      ...targets.map((t) => [
        t.name,
        ...columns.map(([, digits, metric]) =>
          cell(summarize(valuesOf(result, t.name, metric)), digits, o),
        ),
      ]),
    ]),
    '',
    ...compare(result)
      .map((c) => comparisonLine(result, c, part))
      .filter((l) => l !== ''),
  ];
  if (part === 'idle') {
    for (const r of result.rounds.filter((r) => (r.idle?.disconnected ?? 0) > 0)) {
      lines.push(
        `warning: ${r.target} round ${r.round}: ${r.idle!.disconnected} idle clients disconnected`,
      );
    }
    // Stage 6's bcrypt worker thread's heap moves by a few MiB between
    // readings: noise at 1,000 connections, small at the scale scenario's 10,000.
    if (result.rounds.some((r) => r.target === 'stage6' && r.idle !== undefined)) {
      lines.push(
        `note: stage6 also runs a bcrypt worker thread whose heap moves by a few MiB between ` +
          `readings, several KiB per connection at ${format(o.idle, 0)} ` +
          `connections; its memory goal is judged with 10,000 connections in the scale section`,
      );
    }
    return lines;
  }
  // Which side ran out of CPU decides what "delivered msg/s" measured.
  for (const t of targets) {
    const load = summarize(valuesOf(result, t.name, METRICS.loadCpu)).median;
    const server = summarize(valuesOf(result, t.name, METRICS.serverCpu)).median;
    if (server >= SATURATED) {
      lines.push(`note: ${t.name}: the server used a whole core; msg/s is its own limit`);
    } else if (load >= SATURATED) {
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

/** One comparison's fan-out ratios, or its idle-memory ratio ('' if it has none). */
function comparisonLine(result: BenchResult, c: Comparison, part: 'fanout' | 'idle'): string {
  const goals = c.judged ? result.targets.find((t) => t.name === c.target)?.goals : undefined;
  const parts: string[] = [];
  if (part === 'idle') {
    if (!Number.isFinite(c.memoryRatio)) return '';
    const max = goals?.maxMemoryRatio;
    const goal = max === undefined ? '' : ` (goal <= ${max}x${verdict(c.memoryVerdict)})`;
    return `${c.target} / ${c.baseline}: memory per idle connection ${format(c.memoryRatio, 2)}x${goal}`;
  }
  if (Number.isFinite(c.throughputRatio)) {
    const min = goals?.minThroughputRatio;
    const goal = min === undefined ? '' : ` (goal >= ${min}x${verdict(c.throughputVerdict)})`;
    parts.push(`throughput ${format(c.throughputRatio, 2)}x${goal}`);
  }
  const max = goals?.maxCpuPerMessageRatio;
  const judged = c.cpuPerMessageVerdict;
  const rounds = c.cpuPerMessageRounds;
  const detail = [
    rounds.length < 2
      ? ''
      : `rounds ${format(Math.min(...rounds), 2)}–${format(Math.max(...rounds), 2)}x`,
    max === undefined || judged === null ? '' : `target <= ${max}x: ${judgementText(judged)}`,
  ]
    .filter((d) => d !== '')
    .join('; ');
  if (Number.isFinite(c.cpuPerMessageRatio)) {
    const range = detail ? ` (${detail})` : '';
    parts.push(`server CPU per message ${format(c.cpuPerMessageRatio, 2)}x${range}`);
  } else if (max !== undefined) {
    parts.push(`server CPU per message: inconclusive (target <= ${max}x)`);
  }
  if (parts.length === 0) return '';
  // A target whose clients do more work than the baseline's is not judged against it.
  const unfair = c.judged ? '' : ' [different client work: not judged]';
  return `${c.target} / ${c.baseline}: ${parts.join(', ')}${unfair}`;
}

/** Logins per second against the hashing workers' theoretical maximum. */
function loginsLines(result: BenchResult): string[] {
  const o = result.options;
  const logins = result.logins;
  const out: string[] = [];
  if (logins.length > 0) {
    const ratio = summarize(logins.map((m) => m.ratio)).median;
    out.push(
      `stage6 logins: bcrypt cost ${o.bcryptCost}, ${o.hashWorkers} hashing worker(s), ` +
        `${o.loginClients} clients logging in at once, ${o.logins} logins per round; ` +
        `every other server setting as shipped`,
      '',
      table([
        ['logins/s', 't_hash ms', 'max logins/s', 'ratio', 'login p50 ms', 'server CPU %'],
        [
          col(logins, (m) => m.loginsPerSecond, 2),
          col(logins, (m) => m.hashMs, 0),
          col(logins, (m) => m.maxLoginsPerSecond, 2),
          col(logins, (m) => m.ratio, 2),
          col(logins, (m) => m.p50Ms, 0),
          col(logins, (m) => m.serverCpuPercent, 0),
        ],
      ]),
      '',
      `stage6 logins: ${format(ratio, 2)}x the theoretical maximum ` +
        `(workers / t_hash = ${o.hashWorkers} / t_hash, t_hash timed in this run)`,
    );
  }
  for (const m of logins) {
    if (m.failed > 0) {
      out.push(`warning: logins round ${m.round}: ${m.failed} failed (${m.firstError})`);
    }
    if (m.busyAnswers > 0) {
      out.push(
        `note: logins round ${m.round}: ${m.busyAnswers} "busy, try again" answers waited out`,
      );
    }
  }
  return out;
}

/** Chat latency during a burst of logins against the same chat with none. */
function burstLines(result: BenchResult): string[] {
  const o = result.options;
  const bursts = result.bursts;
  const out: string[] = [];
  if (bursts.length > 0) {
    const period = (name: string, of: (m: (typeof bursts)[number]) => LatencySummary) => [
      name,
      col(bursts, (m) => of(m).p50Ms, 2),
      col(bursts, (m) => of(m).p90Ms, 2),
      col(bursts, (m) => of(m).p99Ms, 2),
      col(bursts, (m) => of(m).maxMs, 1),
      col(bursts, (m) => of(m).samples, 0),
    ];
    const ratio = summarize(bursts.map((m) => m.p99Ratio)).median;
    out.push(
      `stage6 chat during a login burst: ${o.chatters} clients chatting (one message each ` +
        `every ${CHAT_INTERVAL_MS} ms), then ${o.burst} logins at once at cost ${o.bcryptCost}, ` +
        `from one address, against the server as shipped`,
      '',
      table([
        ['period', 'chat p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'samples', 'lasted s'],
        [...period('no logins', (m) => m.quiet), String(QUIET_SECONDS)],
        [...period(`${o.burst} logins`, (m) => m.burst), col(bursts, (m) => m.burstSeconds, 1)],
      ]),
      '',
      `stage6 chat p99 during logins / without: ${format(ratio, 2)}x ` +
        `(goal <= ${MAX_BURST_P99_RATIO}x${verdict(burstVerdict(result))})`,
      '',
      table([
        [
          'logins in',
          'refused for good',
          'told to retry',
          '"busy" answers',
          'main-thread stall ms',
        ],
        [
          col(bursts, (m) => m.loginsOk, 0),
          col(bursts, (m) => m.loginsFailed, 0),
          col(bursts, (m) => m.loginsRetried, 0),
          col(bursts, (m) => m.busyAnswers, 0),
          col(bursts, (m) => m.stallMs ?? NaN, 1),
        ],
      ]),
      '',
      `stage6 burst: "told to retry" logins got SERVICE_UNAVAILABLE with a retryAfterMs ` +
        `(the queue would not answer them in time, or their address had many waiting) and ` +
        `the client tried again by itself; the stall is the worst delay of a 5-ms timer on ` +
        `the server's main thread during the burst (bcrypt runs in a worker thread)`,
    );
  }
  for (const m of bursts) {
    if (m.loginsFailed > 0 || m.lost > 0) {
      out.push(
        `warning: burst round ${m.round}: ${m.loginsFailed} logins failed` +
          `${m.firstError ? ` (${m.firstError})` : ''}, ${m.lost} chat deliveries lost`,
      );
    }
  }
  return out;
}

/** Memory per connection with thousands idle, and the chat with and without them. */
function scaleLines(result: BenchResult): string[] {
  if (result.scale.length === 0) return [];
  const o = result.options;
  const users = format(o.scale, 0);
  const targets = [...new Set(result.scale.map((m) => m.target))];
  const rounds = {
    rounds: Math.max(...targets.map((t) => result.scale.filter((m) => m.target === t).length)),
  };
  const s = (target: string, value: (m: ScaleMeasurement) => number, digits: number) =>
    cell(scaleSummary(result, target, value), digits, rounds);
  const period = (t: string, name: 'quiet' | 'crowded') => {
    const p = (value: (p: ChatPeriod) => number, digits: number) =>
      s(t, (m) => value(m[name]), digits);
    return [
      t,
      name === 'quiet' ? 'none' : users,
      p((p) => p.p50Ms, 2),
      p((p) => p.p90Ms, 2),
      p((p) => p.p99Ms, 2),
      p((p) => p.maxMs, 1),
      p((p) => p.serverCpuPercent, 0),
    ];
  };
  const out: string[] = [
    `scale: ${users} idle clients (stage 6: registered and logged in at bcrypt ` +
      `cost ${CHAT_SCENARIO_BCRYPT_COST}, a bench-only setting), held by ` +
      `${result.scale[0]!.loadProcesses} load process(es); ${o.active} active clients chatting ` +
      `at ${o.activeRate} messages/s in all, ${o.scaleSeconds} s measured per period. The ` +
      `active clients join before the idle ones, so each broadcast reaches them first; the ` +
      `server still writes every message to every member (its CPU column shows that cost).`,
    '',
    table([
      [
        'target',
        'idle connected',
        'connect s',
        'server CPU s',
        'RSS KiB/conn',
        'heap KiB/conn',
        'RSS MiB before',
      ],
      ...targets.map((t) => [
        t,
        s(t, (m) => m.opened, 0),
        s(t, (m) => m.connectSeconds, 1),
        s(t, (m) => m.connectCpuSeconds, 1),
        s(t, (m) => m.rssPerConnectionKiB, 2),
        s(t, (m) => m.heapPerConnectionKiB ?? NaN, 2),
        s(t, (m) => m.baselineRssKiB / 1024, 1),
      ]),
    ]),
    '',
    table([
      ['target', 'idle users', 'chat p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server CPU %'],
      ...targets.flatMap((t) => [period(t, 'quiet'), period(t, 'crowded')]),
    ]),
    '',
  ];
  const c = compareScale(result);
  if (c.memoryVerdict !== null) {
    out.push(
      `stage6 / raw: memory per connection with ${users} idle ${format(c.memoryRatio, 2)}x ` +
        `(goal <= ${MAX_SCALE_MEMORY_RATIO}x${verdict(c.memoryVerdict)})`,
    );
  }
  if (c.p99Verdict !== null) {
    const raw = Number.isFinite(c.rawP99Ratio)
      ? `; raw in the same scenario: ${format(c.rawP99Ratio, 2)}x`
      : '';
    out.push(
      `stage6 chat p99 with ${users} idle / without: ${format(c.p99Ratio, 2)}x ` +
        `(goal <= ${MAX_SCALE_P99_RATIO}x${verdict(c.p99Verdict)})${raw}`,
    );
  }
  const limits = [...new Set(result.scale.flatMap((m) => [m.serverOpenFiles, m.loadOpenFiles]))];
  out.push(
    `open files: the servers and load processes ran with a soft limit of ` +
      `${limits.map((l) => (l === null ? 'unknown' : format(l, 0))).join(' / ')}`,
  );
  for (const m of result.scale) {
    const lost = m.quiet.lost + m.crowded.lost;
    if (m.opened !== m.requested || m.disconnected > 0 || lost > 0) {
      out.push(
        `warning: scale ${m.target} round ${m.round}: ${m.opened} of ${m.requested} idle ` +
          `clients connected${m.firstError ? ` (${m.firstError})` : ''}, ` +
          `${m.disconnected} disconnected, ${lost} chat deliveries lost`,
      );
    }
  }
  return out;
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
    clusterSummary(result, layout, value).median;
  const row = (layout: ClusterLayout) => {
    const s = (value: (m: ClusterMeasurement) => number, digits: number) =>
      cell(clusterSummary(result, layout, value), digits, o);
    return [
      layoutName(layout),
      s((m) => m.deliveredPerSecond, 0),
      s((m) => m.p50Ms, 1),
      s((m) => m.p99Ms, 1),
      s((m) => m.serverCpuUsPerMessage, 2),
      layout.redis ? s((m) => m.redisCpuUsPerMessage, 2) : '-',
      s((m) => m.loadCpuPercent, 0),
    ];
  };
  const ran = CLUSTER_LAYOUTS.filter((l) => result.cluster.some((m) => sameLayout(m, l)));
  // The Redis hop: the same server, with and without Redis in between.
  const alone = { nodes: 1, redis: false };
  const viaRedis = { nodes: 1, redis: true };
  const hop = (value: (m: ClusterMeasurement) => number) =>
    format(median(viaRedis, value) - median(alone, value), 2);
  const lines = [
    `cluster (stage 9 over ${o.redisUrl}): ${o.clients} clients spread over the nodes, ` +
      `${o.senders} senders, window ${o.window}, ${o.seconds} s measured; ${o.rounds} round(s), ` +
      'median (min–max)',
    '',
    table([
      [
        'layout',
        'delivered msg/s',
        'p50 ms',
        'p99 ms',
        'nodes CPU µs/msg (sum)',
        'Redis CPU µs/msg sent',
        'load CPU %',
      ],
      ...ran.map(row),
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
  const largest = [...ran].reverse().find((l) => l.redis);
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
  blocks.push(
    'How and why each number is measured is explained in the ' +
      '[benchmark README](../bench/README.md). In short: every server runs in its own process ' +
      'next to a raw Node broadcaster (the baseline), on the same machine, in the same run; ' +
      'every figure is the median of the rounds, with the smallest and largest round in ' +
      'brackets (min–max); every goal is a ratio of two such medians.',
    '## Machine',
    table([
      ['', ''],
      ['CPU', `${m.cpuModel}, ${m.cores} cores`],
      ['memory', `${m.memoryGiB} GiB`],
      ['OS', m.os],
      ['Node', m.node],
      [
        'open files',
        `soft limit ${limit(m.openFilesLimit)}, hard limit ${limit(m.openFilesHardLimit)}; ` +
          `the servers and load processes ran with ${limit(m.openFilesForBench)}`,
      ],
      [
        'ephemeral ports',
        ports ? `${ports.join('–')} (${format(ports[1] - ports[0] + 1, 0)} ports)` : 'unknown',
      ],
      [
        'rounds',
        `${o.rounds}${result.scale.length > 0 ? ` (scale scenario: ${o.scaleRounds})` : ''}`,
      ],
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
