/**
 * Turns a run's measurements into what a person reads: the machine, a table
 * of medians (with min–max over rounds), each target's ratios against `raw`
 * and against its own fair baseline (the raw broadcaster under the same
 * client work), whether its goals were met, and the stage 6 login section.
 *
 * Ratios, not absolute numbers, are the result: absolute messages per second
 * depend on the machine, while "stage 4 delivers 0.93x what raw Node delivers
 * on the same machine in the same run" carries over to other machines.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import { formatLoginReport } from './login-report';
import { cell, format, table } from './report-format';
import { summarize } from './stats';
import { BASELINE } from './targets';

/** One target's comparison with one baseline, from the medians of all rounds. */
export interface Comparison {
  /** The target's name. */
  target: string;
  /** The baseline's name. */
  baseline: string;
  /**
   * True if this baseline is the target's own fair baseline (same client work
   * per message: the `baseline` of its target); only then are its goals checked.
   */
  judged: boolean;
  /** Its delivered messages per second divided by the baseline's. */
  throughputRatio: number;
  /** Its RSS per idle connection divided by the baseline's (NaN if not measured). */
  memoryRatio: number;
  /** Its server CPU time per delivered message divided by the baseline's. */
  cpuPerMessageRatio: number;
  /** Whether the throughput goal was met (null if not judged or no goal). */
  throughputMet: boolean | null;
  /** Whether the memory goal was met (null if not judged, no goal, or not measured). */
  memoryMet: boolean | null;
}

type Metric = (m: RoundMeasurement) => number;

/** CPU use, in percent of one core, above which a process counts as saturated. */
const SATURATED = 90;

interface Column {
  title: string;
  digits: number;
  value: Metric;
}

const THROUGHPUT: Metric = (m) => m.fanout?.deliveredPerSecond ?? NaN;
const MEMORY: Metric = (m) => m.idle?.rssPerConnectionKiB ?? NaN;
// CPU time per delivered message is the steadiest number on a shared machine:
// when other processes steal the CPU, throughput drops but this barely moves.
const CPU_PER_MESSAGE: Metric = (m) =>
  m.fanout ? (m.fanout.serverCpuPercent / 100 / m.fanout.deliveredPerSecond) * 1e6 : NaN;
const LOAD_CPU: Metric = (m) => m.fanout?.loadCpuPercent ?? NaN;
const SERVER_CPU: Metric = (m) => m.fanout?.serverCpuPercent ?? NaN;

const FANOUT_COLUMNS: Column[] = [
  { title: 'delivered msg/s', digits: 0, value: THROUGHPUT },
  { title: 'p50 ms', digits: 1, value: (m) => m.fanout?.p50Ms ?? NaN },
  { title: 'p99 ms', digits: 1, value: (m) => m.fanout?.p99Ms ?? NaN },
  { title: 'server CPU %', digits: 0, value: SERVER_CPU },
  { title: 'server CPU µs/msg', digits: 2, value: CPU_PER_MESSAGE },
  { title: 'load CPU %', digits: 0, value: LOAD_CPU },
];

const IDLE_COLUMNS: Column[] = [
  { title: 'RSS KiB/idle conn', digits: 2, value: MEMORY },
  { title: 'heap KiB/idle conn', digits: 2, value: (m) => m.idle?.heapPerConnectionKiB ?? NaN },
  { title: 'baseline RSS MiB', digits: 1, value: (m) => (m.idle?.baselineRssKiB ?? NaN) / 1024 },
];

/** One metric's values over the rounds of one target that measured it. */
function valuesOf(result: BenchResult, target: string, metric: Metric): number[] {
  return result.rounds
    .filter((m) => m.target === target)
    .map(metric)
    .filter((v) => !Number.isNaN(v));
}

/**
 * Compares every target other than `raw` with `raw`, and also with its own
 * fair baseline when that is a different target in the run (stage 5 and 6
 * with `raw-sealed`). Goals are checked against the fair baseline only.
 *
 * @param result - a finished run
 * @returns the comparisons, in table order (none for baselines that did not run)
 */
export function compare(result: BenchResult): Comparison[] {
  const ran = (name: string) => result.targets.some((t) => t.name === name);
  const median = (target: string, metric: Metric) =>
    summarize(valuesOf(result, target, metric)).median;
  const comparisons: Comparison[] = [];
  for (const t of result.targets) {
    if (t.name === BASELINE.name) continue;
    const own = t.baseline ?? BASELINE.name;
    const baselines = [...new Set([BASELINE.name, own])].filter((b) => ran(b) && b !== t.name);
    for (const baseline of baselines) {
      const ratio = (metric: Metric) => median(t.name, metric) / median(baseline, metric);
      const throughputRatio = ratio(THROUGHPUT);
      const memoryRatio = ratio(MEMORY);
      const judged = baseline === own;
      const minThroughput = judged ? t.goals?.minThroughputRatio : undefined;
      const maxMemory = judged ? t.goals?.maxMemoryRatio : undefined;
      comparisons.push({
        target: t.name,
        baseline,
        judged,
        throughputRatio,
        memoryRatio,
        cpuPerMessageRatio: ratio(CPU_PER_MESSAGE),
        throughputMet:
          minThroughput === undefined || !Number.isFinite(throughputRatio)
            ? null
            : throughputRatio >= minThroughput,
        memoryMet:
          maxMemory === undefined || !Number.isFinite(memoryRatio)
            ? null
            : memoryRatio <= maxMemory,
      });
    }
  }
  return comparisons;
}

/**
 * Formats a finished run as text (the tables are also valid Markdown).
 *
 * @param result - a finished run
 * @returns the report, several lines
 */
export function formatReport(result: BenchResult): string {
  const { machine: m, options: o } = result;
  const out: string[] = [];
  out.push(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ` +
      `ulimit -n ${m.openFilesLimit ?? 'unknown'}; ${m.date}`,
  );
  const measured = (has: (r: RoundMeasurement) => boolean) =>
    result.targets.filter((t) => result.rounds.some((r) => r.target === t.name && has(r)));
  const withFanout = measured((r) => r.fanout !== null);
  const withIdle = measured((r) => r.idle !== null);
  const shape = [`${o.rounds} round(s), median (min–max)`];
  if (withFanout.length > 0) {
    shape.unshift(
      `fan-out: ${o.clients} clients, ${o.senders} senders, window ${o.window}, ` +
        `${o.payloadBytes}-byte messages, ${o.seconds} s measured after ${o.warmupSeconds} s warm-up`,
    );
  }
  if (withIdle.length > 0) shape.splice(-1, 0, `idle: ${o.idle} connections`);
  out.push(shape.join('; '));
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  const tableOf = (columns: Column[], targets: BenchResult['targets']) =>
    table([
      ['target', ...columns.map((c) => c.title)],
      ...targets.map((t) => [
        t.name,
        ...columns.map((c) => cell(summarize(valuesOf(result, t.name, c.value)), c.digits, o)),
      ]),
    ]);
  if (withFanout.length > 0) out.push('', tableOf(FANOUT_COLUMNS, withFanout));
  if (withIdle.length > 0) out.push('', tableOf(IDLE_COLUMNS, withIdle));
  const comparisons = compare(result);
  if (comparisons.length > 0 || withFanout.length > 0) out.push('');
  for (const c of comparisons) out.push(comparisonLine(result, c));
  out.push(...notes(result, withFanout));
  const logins = formatLoginReport(result);
  if (logins.length > 0) out.push('', ...logins);
  return out.join('\n');
}

const verdict = (met: boolean | null) => (met === null ? '' : met ? ': met' : ': NOT met');

function comparisonLine(result: BenchResult, c: Comparison): string {
  const target = result.targets.find((t) => t.name === c.target);
  const goals = c.judged ? target?.goals : undefined;
  const parts: string[] = [];
  if (Number.isFinite(c.throughputRatio)) {
    const min = goals?.minThroughputRatio;
    const goal = min === undefined ? '' : ` (goal >= ${min}x${verdict(c.throughputMet)})`;
    parts.push(`throughput ${format(c.throughputRatio, 2)}x${goal}`);
  }
  if (Number.isFinite(c.memoryRatio)) {
    const max = goals?.maxMemoryRatio;
    const goal = max === undefined ? '' : ` (goal <= ${max}x${verdict(c.memoryMet)})`;
    parts.push(`memory per idle connection ${format(c.memoryRatio, 2)}x${goal}`);
  }
  if (Number.isFinite(c.cpuPerMessageRatio)) {
    parts.push(`server CPU per message ${format(c.cpuPerMessageRatio, 2)}x`);
  }
  // A target whose clients do more work than the baseline's is not judged against it.
  const unfair = !c.judged ? ' [different client work: not judged]' : '';
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
    const idleDropped = r.idle?.disconnected ?? 0;
    if (lost + dropped + idleDropped > 0) {
      out.push(
        `warning: ${r.target} round ${r.round}: ${lost} deliveries lost, ` +
          `${dropped} fan-out and ${idleDropped} idle clients disconnected`,
      );
    }
  }
  return out;
}
