/**
 * Turns a run's measurements into what a person reads: the machine, a table
 * of medians (with min–max over rounds), each target's ratios against the
 * baseline, and whether its goals were met.
 *
 * Ratios, not absolute numbers, are the result: absolute messages per second
 * depend on the machine, while "stage 4 delivers 0.93x what raw Node delivers
 * on the same machine in the same run" carries over to other machines.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import { summarize, type Summary } from './stats';
import { BASELINE } from './targets';

/** One target's comparison with the baseline, from the medians of all rounds. */
export interface Comparison {
  /** The target's name. */
  target: string;
  /** Its delivered messages per second divided by the baseline's. */
  throughputRatio: number;
  /** Its RSS per idle connection divided by the baseline's (NaN if not measured). */
  memoryRatio: number;
  /** Its server CPU time per delivered message divided by the baseline's. */
  cpuPerMessageRatio: number;
  /** Whether the throughput goal was met (null if the target has no goals). */
  throughputMet: boolean | null;
  /** Whether the memory goal was met (null if the target has no goals or memory was not measured). */
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

const THROUGHPUT: Metric = (m) => m.fanout.deliveredPerSecond;
const MEMORY: Metric = (m) => m.idle?.rssPerConnectionKiB ?? NaN;
// CPU time per delivered message is the steadiest number on a shared machine:
// when other processes steal the CPU, throughput drops but this barely moves.
const CPU_PER_MESSAGE: Metric = (m) =>
  (m.fanout.serverCpuPercent / 100 / m.fanout.deliveredPerSecond) * 1e6;

const FANOUT_COLUMNS: Column[] = [
  { title: 'delivered msg/s', digits: 0, value: THROUGHPUT },
  { title: 'p50 ms', digits: 1, value: (m) => m.fanout.p50Ms },
  { title: 'p99 ms', digits: 1, value: (m) => m.fanout.p99Ms },
  { title: 'server CPU %', digits: 0, value: (m) => m.fanout.serverCpuPercent },
  { title: 'server CPU µs/msg', digits: 2, value: CPU_PER_MESSAGE },
  { title: 'load CPU %', digits: 0, value: (m) => m.fanout.loadCpuPercent },
];

const IDLE_COLUMNS: Column[] = [
  { title: 'RSS KiB/idle conn', digits: 2, value: MEMORY },
  { title: 'heap KiB/idle conn', digits: 2, value: (m) => m.idle?.heapPerConnectionKiB ?? NaN },
  { title: 'baseline RSS MiB', digits: 1, value: (m) => (m.idle?.baselineRssKiB ?? NaN) / 1024 },
];

function summaryOf(result: BenchResult, target: string, metric: Metric): Summary {
  return summarize(result.rounds.filter((m) => m.target === target).map(metric));
}

/**
 * Compares every non-baseline target with the baseline.
 *
 * @param result - a finished run
 * @returns one comparison per target other than the baseline (none if the baseline did not run)
 */
export function compare(result: BenchResult): Comparison[] {
  if (!result.targets.some((t) => t.name === BASELINE.name)) return [];
  const median = (target: string, metric: Metric) => summaryOf(result, target, metric).median;
  return result.targets
    .filter((t) => t.name !== BASELINE.name)
    .map((t) => {
      const ratio = (metric: Metric) => median(t.name, metric) / median(BASELINE.name, metric);
      const throughputRatio = ratio(THROUGHPUT);
      const memoryRatio = ratio(MEMORY);
      return {
        target: t.name,
        throughputRatio,
        memoryRatio,
        cpuPerMessageRatio: ratio(CPU_PER_MESSAGE),
        throughputMet: t.goals ? throughputRatio >= t.goals.minThroughputRatio : null,
        memoryMet:
          t.goals && Number.isFinite(memoryRatio) ? memoryRatio <= t.goals.maxMemoryRatio : null,
      };
    });
}

function format(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function cell(s: Summary, digits: number, rounds: number): string {
  const median = format(s.median, digits);
  if (rounds < 2 || !Number.isFinite(s.median)) return median;
  return `${median} (${format(s.min, digits)}–${format(s.max, digits)})`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

/**
 * Formats a finished run as text (the table is also valid Markdown).
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
  out.push(
    `fan-out: ${o.clients} clients, ${o.senders} senders, window ${o.window}, ` +
      `${o.payloadBytes}-byte messages, ${o.seconds} s measured after ${o.warmupSeconds} s warm-up; ` +
      `idle: ${o.idle} connections; ${o.rounds} round(s), median (min–max)`,
  );
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  out.push('');
  const tableOf = (columns: Column[]) =>
    table([
      ['target', ...columns.map((c) => c.title)],
      ...result.targets.map((t) => [
        t.name,
        ...columns.map((c) => cell(summaryOf(result, t.name, c.value), c.digits, o.rounds)),
      ]),
    ]);
  out.push(tableOf(FANOUT_COLUMNS));
  if (o.idle > 0) out.push('', tableOf(IDLE_COLUMNS));
  out.push('');
  for (const c of compare(result)) {
    const goals = result.targets.find((t) => t.name === c.target)?.goals;
    const verdict = (met: boolean | null) => (met === null ? '' : met ? ': met' : ': NOT met');
    out.push(
      `${c.target} / ${BASELINE.name}: throughput ${format(c.throughputRatio, 2)}x` +
        (goals ? ` (goal >= ${goals.minThroughputRatio}x${verdict(c.throughputMet)})` : '') +
        (Number.isFinite(c.memoryRatio)
          ? `, memory per idle connection ${format(c.memoryRatio, 2)}x` +
            (goals ? ` (goal <= ${goals.maxMemoryRatio}x${verdict(c.memoryMet)})` : '')
          : '') +
        `, server CPU per message ${format(c.cpuPerMessageRatio, 2)}x`,
    );
  }
  // Which side ran out of CPU decides what "delivered msg/s" measured.
  for (const t of result.targets) {
    const load = summaryOf(result, t.name, (m) => m.fanout.loadCpuPercent).median;
    const server = summaryOf(result, t.name, (m) => m.fanout.serverCpuPercent).median;
    if (server >= SATURATED) {
      out.push(`note: ${t.name}: the server used a whole core; msg/s is its own limit`);
    } else if (load >= SATURATED) {
      out.push(
        `note: ${t.name}: the load process used a whole core; msg/s is the load generator's ` +
          `limit, and server CPU µs/msg shows the server's cost`,
      );
    }
  }
  for (const r of result.rounds) {
    const lost = r.fanout.lost + r.fanout.disconnected + (r.idle?.disconnected ?? 0);
    if (lost > 0) {
      out.push(
        `warning: ${r.target} round ${r.round}: ${r.fanout.lost} deliveries lost, ` +
          `${r.fanout.disconnected} fan-out and ${r.idle?.disconnected ?? 0} idle clients disconnected`,
      );
    }
  }
  return out.join('\n');
}
