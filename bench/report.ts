/**
 * Turns a run's measurements into what a person reads: the machine, a table
 * of medians (with min–max over rounds), each target's ratios against `raw`
 * and against its own fair baseline (the raw broadcaster under the same
 * client work), the stage 6 login and scale sections, and a verdict for
 * every goal.
 *
 * The report is a list of sections. The terminal gets them as plain text
 * (`formatReport`); docs/benchmarks.md gets the same sections with headings
 * and charts (markdown-report.ts). Tables are Markdown in both.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import {
  compare,
  CPU_PER_MESSAGE,
  LOAD_CPU,
  LOAD_CPU_PER_MESSAGE,
  MEMORY,
  SERVER_CPU,
  THROUGHPUT,
  valuesOf,
  type Comparison,
  type Metric,
} from './comparisons';
import { verdicts, verdictText } from './goals';
import { judgementText, type Judgement } from './verdict';
import { formatBurstReport, formatLoginsReport } from './login-report';
import { cell, format, table } from './report-format';
import { formatScaleReport } from './scale-report';
import { formatClusterReport } from './cluster-report';
import { summarize } from './stats';
import { BASELINE } from './targets';

export { compare, type Comparison } from './comparisons';

/** One part of the report. */
export interface ReportSection {
  /** Which part: the markdown report picks its heading and chart by it. */
  id: 'fanout' | 'idle' | 'logins' | 'burst' | 'scale' | 'cluster' | 'goals';
  /** Its lines: plain text, and Markdown tables (lines starting with `|`). */
  lines: string[];
}

/** CPU use, in percent of one core, above which a process counts as saturated. */
const SATURATED = 90;

interface Column {
  title: string;
  digits: number;
  value: Metric;
}

const FANOUT_COLUMNS: Column[] = [
  { title: 'delivered msg/s', digits: 0, value: THROUGHPUT },
  { title: 'p50 ms', digits: 1, value: (m) => m.fanout?.p50Ms ?? NaN },
  { title: 'p90 ms', digits: 1, value: (m) => m.fanout?.p90Ms ?? NaN },
  { title: 'p99 ms', digits: 1, value: (m) => m.fanout?.p99Ms ?? NaN },
  { title: 'server CPU %', digits: 0, value: SERVER_CPU },
  { title: 'server CPU µs/msg', digits: 2, value: CPU_PER_MESSAGE },
  { title: 'load CPU %', digits: 0, value: LOAD_CPU },
  { title: 'load CPU µs/msg', digits: 2, value: LOAD_CPU_PER_MESSAGE },
];

const IDLE_COLUMNS: Column[] = [
  { title: 'RSS KiB/idle conn', digits: 2, value: MEMORY },
  { title: 'heap KiB/idle conn', digits: 2, value: (m) => m.idle?.heapPerConnectionKiB ?? NaN },
  { title: 'baseline RSS MiB', digits: 1, value: (m) => (m.idle?.baselineRssKiB ?? NaN) / 1024 },
];

/**
 * One line describing the machine.
 *
 * @param result - a finished run
 */
export function machineLine(result: BenchResult): string {
  const m = result.machine;
  const ports = m.localPortRange ? `, ephemeral ports ${m.localPortRange.join('-')}` : '';
  return (
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ` +
    `open files soft ${limit(m.openFilesLimit)} / hard ${limit(m.openFilesHardLimit)} ` +
    `(bench processes: ${limit(m.openFilesForBench)})${ports}; ${m.date}`
  );
}

/**
 * Formats an open-file limit.
 *
 * @param value - the limit (null: unknown)
 */
export function limit(value: number | null): string {
  if (value === null) return 'unknown';
  return Number.isFinite(value) ? String(value) : 'unlimited';
}

/**
 * The report's sections, in order; sections that did not run are left out.
 *
 * @param result - a finished run
 */
export function reportSections(result: BenchResult): ReportSection[] {
  const o = result.options;
  const measured = (has: (r: RoundMeasurement) => boolean) =>
    result.targets.filter((t) => result.rounds.some((r) => r.target === t.name && has(r)));
  const withFanout = measured((r) => r.fanout !== null);
  const withIdle = measured((r) => r.idle !== null);
  const tableOf = (columns: Column[], targets: BenchResult['targets']) =>
    table([
      ['target', ...columns.map((c) => c.title)],
      ...targets.map((t) => [
        t.name,
        ...columns.map((c) => cell(summarize(valuesOf(result, t.name, c.value)), c.digits, o)),
      ]),
    ]);
  const comparisons = compare(result);
  const sections: ReportSection[] = [];
  if (withFanout.length > 0) {
    sections.push({
      id: 'fanout',
      lines: [
        `fan-out: ${o.clients} clients, ${o.senders} senders, window ${o.window}, ` +
          `${o.payloadBytes}-byte messages, ${o.seconds} s measured after ${o.warmupSeconds} s ` +
          `warm-up; ${o.rounds} round(s), median (min–max)`,
        '',
        tableOf(FANOUT_COLUMNS, withFanout),
        '',
        ...comparisons.map((c) => comparisonLine(result, c, 'fanout')).filter((l) => l !== ''),
        ...notes(result, withFanout),
      ],
    });
  }
  if (withIdle.length > 0) {
    sections.push({
      id: 'idle',
      lines: [
        `idle: ${o.idle} connections; RSS after full GCs, young generation excluded; ` +
          `${o.rounds} round(s), median (min–max)`,
        '',
        tableOf(IDLE_COLUMNS, withIdle),
        '',
        ...comparisons.map((c) => comparisonLine(result, c, 'idle')).filter((l) => l !== ''),
        ...idleWarnings(result),
        ...idleNotes(result),
      ],
    });
  }
  const logins = formatLoginsReport(result);
  if (logins.length > 0) sections.push({ id: 'logins', lines: logins });
  const burst = formatBurstReport(result);
  if (burst.length > 0) sections.push({ id: 'burst', lines: burst });
  const scale = formatScaleReport(result);
  if (scale.length > 0) sections.push({ id: 'scale', lines: scale });
  const cluster = formatClusterReport(result);
  if (cluster.length > 0) sections.push({ id: 'cluster', lines: cluster });
  const goals = verdicts(result);
  if (goals.length > 0) {
    sections.push({
      id: 'goals',
      lines: [
        table([
          ['goal', 'measured', 'verdict'],
          ...goals.map((v) => [v.goal, v.measured, verdictText(v)]),
        ]),
      ],
    });
  }
  return sections;
}

/**
 * Formats a finished run as text for the terminal (the tables are also valid Markdown).
 *
 * @param result - a finished run
 * @returns the report, several lines
 */
export function formatReport(result: BenchResult): string {
  const out: string[] = [machineLine(result)];
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  for (const section of reportSections(result)) out.push('', ...section.lines);
  return out.join('\n');
}

const verdict = (j: Judgement | null) => (j === null ? '' : `: ${judgementText(j, true)}`);

/** One comparison's fan-out ratios, or its idle-memory ratio ('' if it has none). */
function comparisonLine(result: BenchResult, c: Comparison, part: 'fanout' | 'idle'): string {
  const target = result.targets.find((t) => t.name === c.target);
  const goals = c.judged ? target?.goals : undefined;
  const parts: string[] = [];
  if (part === 'fanout' && Number.isFinite(c.throughputRatio)) {
    const min = goals?.minThroughputRatio;
    const goal = min === undefined ? '' : ` (goal >= ${min}x${verdict(c.throughputVerdict)})`;
    parts.push(`throughput ${format(c.throughputRatio, 2)}x${goal}`);
  }
  if (part === 'idle' && Number.isFinite(c.memoryRatio)) {
    const max = goals?.maxMemoryRatio;
    const goal = max === undefined ? '' : ` (goal <= ${max}x${verdict(c.memoryVerdict)})`;
    parts.push(`memory per idle connection ${format(c.memoryRatio, 2)}x${goal}`);
  }
  if (part === 'fanout') {
    const max = goals?.maxCpuPerMessageRatio;
    const judged = c.cpuPerMessageVerdict;
    const goal =
      max === undefined || judged === null ? '' : `target <= ${max}x: ${judgementText(judged)}`;
    const rounds = c.cpuPerMessageRounds;
    const range =
      rounds.length < 2
        ? ''
        : `rounds ${format(Math.min(...rounds), 2)}–${format(Math.max(...rounds), 2)}x`;
    const detail = [range, goal].filter((d) => d !== '').join('; ');
    if (Number.isFinite(c.cpuPerMessageRatio)) {
      parts.push(
        `server CPU per message ${format(c.cpuPerMessageRatio, 2)}x${detail ? ` (${detail})` : ''}`,
      );
    } else if (max !== undefined) {
      parts.push(`server CPU per message: inconclusive (target <= ${max}x)`);
    }
  }
  if (parts.length === 0) return '';
  // A target whose clients do more work than the baseline's is not judged against it.
  const unfair = !c.judged && part === 'fanout' ? ' [different client work: not judged]' : '';
  return `${c.target} / ${c.baseline}: ${parts.join(', ')}${unfair}`;
}

/** Which side ran out of CPU decides what "delivered msg/s" measured; and any losses. */
function notes(result: BenchResult, withFanout: BenchResult['targets']): string[] {
  const out: string[] = [];
  for (const t of withFanout) {
    const load = summarize(valuesOf(result, t.name, LOAD_CPU)).median;
    const server = summarize(valuesOf(result, t.name, SERVER_CPU)).median;
    if (server >= SATURATED) {
      out.push(`note: ${t.name}: the server used a whole core; msg/s is its own limit`);
    } else if (load >= SATURATED) {
      out.push(
        `note: ${t.name}: the load process used a whole core; msg/s is the load generator's ` +
          `limit, and server CPU µs/msg shows the server's own cost`,
      );
    }
  }
  for (const t of withFanout) {
    const own = t.baseline ?? BASELINE.name;
    if (t.goals && !result.targets.some((b) => b.name === own)) {
      out.push(`note: ${t.name}: its baseline ${own} was not in this run, so no goal is checked`);
    }
  }
  for (const r of result.rounds) {
    const lost = r.fanout?.lost ?? 0;
    const dropped = r.fanout?.disconnected ?? 0;
    if (lost + dropped > 0) {
      out.push(
        `warning: ${r.target} round ${r.round}: ${lost} deliveries lost, ` +
          `${dropped} fan-out clients disconnected`,
      );
    }
  }
  return out;
}

/**
 * Says how to read stage 6's idle figure at this size: its server also runs a
 * bcrypt worker thread whose heap moves by megabytes between readings, which
 * at 1,000 connections is several KiB per connection of noise. The memory goal
 * is judged where that noise is small, at 10,000 connections (scale scenario).
 */
function idleNotes(result: BenchResult): string[] {
  if (!result.rounds.some((r) => r.target === 'stage6' && r.idle !== undefined)) return [];
  return [
    `note: stage6 also runs a bcrypt worker thread whose heap moves by a few MiB between ` +
      `readings, several KiB per connection at ${format(result.options.idle, 0)} ` +
      `connections; its memory goal is judged with 10,000 connections in the scale section`,
  ];
}

function idleWarnings(result: BenchResult): string[] {
  return result.rounds
    .filter((r) => (r.idle?.disconnected ?? 0) > 0)
    .map(
      (r) =>
        `warning: ${r.target} round ${r.round}: ${r.idle!.disconnected} idle clients disconnected`,
    );
}
