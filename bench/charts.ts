/**
 * The report's charts, built from a finished run: throughput, latency
 * percentiles and memory per connection by target, chat latency during a
 * login burst, and chat latency with and without 10,000 idle users. Each is
 * a bar chart of medians over rounds with min–max whiskers (svg-chart.ts).
 *
 * @module
 */
import type { BenchResult } from './bench';
import { MEMORY, THROUGHPUT, valuesOf, type Metric } from './comparisons';
import { format } from './report-format';
import { scaleSummary } from './scale-report';
import type { ScaleMeasurement } from './scale-bench';
import { summarize, type Summary } from './stats';
import { barChartSvg, type BarChart } from './svg-chart';

/** One chart, ready to be written next to the report. */
export interface ChartFile {
  /** File name, e.g. `throughput.svg`. */
  name: string;
  /** Its alternative text (the chart's title). */
  alt: string;
  /** Which report section shows it. */
  section: 'fanout' | 'idle' | 'burst' | 'scale';
  /** The SVG document. */
  svg: string;
}

/** Every chart file name this module can produce (stale ones are removed). */
export const CHART_NAMES = [
  'throughput.svg',
  'latency.svg',
  'memory.svg',
  'login-burst.svg',
  'scale-latency.svg',
] as const;

/**
 * Builds the charts for the parts of the run that were measured.
 *
 * @param result - a finished run
 */
export function buildCharts(result: BenchResult): ChartFile[] {
  const charts: ChartFile[] = [];
  const add = (
    name: (typeof CHART_NAMES)[number],
    section: ChartFile['section'],
    chart: BarChart,
  ) => charts.push({ name, alt: chart.title, section, svg: barChartSvg(chart) });
  const rounds = (target: string, metric: Metric) => summarize(valuesOf(result, target, metric));
  const has = (target: string, metric: Metric) => valuesOf(result, target, metric).length > 0;

  const fanout = result.targets.filter((t) => has(t.name, THROUGHPUT));
  if (fanout.length > 0) {
    add('throughput.svg', 'fanout', {
      title: 'Fan-out: delivered messages per second',
      unit: 'msg/s',
      scale: 'log',
      series: ['delivered msg/s'],
      groups: fanout.map((t) => ({ label: t.name, values: [rounds(t.name, THROUGHPUT)] })),
    });
    const percentiles = [50, 90, 99] as const;
    add('latency.svg', 'fanout', {
      title: 'Fan-out: end-to-end latency',
      unit: 'ms',
      scale: 'log',
      series: percentiles.map((p) => `p${p}`),
      groups: fanout.map((t) => ({
        label: t.name,
        values: percentiles.map((p) =>
          rounds(t.name, (m) => (m.fanout ? m.fanout[`p${p}Ms`] : NaN)),
        ),
      })),
    });
  }

  const idle = result.targets.filter((t) => has(t.name, MEMORY));
  const scaled = [...new Set(result.scale.map((m) => m.target))];
  const memoryTargets = result.targets.filter(
    (t) => has(t.name, MEMORY) || scaled.includes(t.name),
  );
  if (memoryTargets.length > 0) {
    const series: string[] = [];
    if (idle.length > 0) series.push(`${format(result.options.idle, 0)} idle`);
    if (scaled.length > 0) series.push(`${format(result.options.scale, 0)} idle (scale)`);
    add('memory.svg', 'idle', {
      title: 'Server memory per idle connection (RSS after GC)',
      unit: 'KiB per connection',
      series,
      groups: memoryTargets.map((t) => {
        const values: (Summary | null)[] = [];
        if (idle.length > 0) values.push(has(t.name, MEMORY) ? rounds(t.name, MEMORY) : null);
        if (scaled.length > 0) {
          values.push(
            scaled.includes(t.name)
              ? scaleSummary(result, t.name, (m) => m.rssPerConnectionKiB)
              : null,
          );
        }
        return { label: t.name, values };
      }),
    });
  }

  if (result.bursts.length > 0) {
    const of = (value: (m: BenchResult['bursts'][number]) => number) =>
      summarize(result.bursts.map(value));
    add('login-burst.svg', 'burst', {
      title: `Stage 6 chat latency during a burst of ${result.options.burst} logins`,
      unit: 'ms',
      series: ['p50', 'p90', 'p99'],
      groups: [
        {
          label: 'no logins',
          values: [of((m) => m.quiet.p50Ms), of((m) => m.quiet.p90Ms), of((m) => m.quiet.p99Ms)],
        },
        {
          label: `${result.options.burst} logins`,
          values: [of((m) => m.burst.p50Ms), of((m) => m.burst.p90Ms), of((m) => m.burst.p99Ms)],
        },
      ],
    });
  }

  if (scaled.length > 0) {
    const users = format(result.options.scale, 0);
    const periods = [
      ['quiet', 'alone'],
      ['crowded', `+${users} idle`],
    ] as const;
    const percentile =
      (period: 'quiet' | 'crowded', p: 'p50Ms' | 'p90Ms' | 'p99Ms') => (m: ScaleMeasurement) =>
        m[period][p];
    add('scale-latency.svg', 'scale', {
      title: `Chat latency of ${result.options.active} active clients, alone and with ${users} idle`,
      unit: 'ms',
      scale: 'log',
      series: ['p50', 'p90', 'p99'],
      groups: scaled.flatMap((t) =>
        periods.map(([period, label]) => ({
          label: `${t} ${label}`,
          values: (['p50Ms', 'p90Ms', 'p99Ms'] as const).map((p) =>
            scaleSummary(result, t, percentile(period, p)),
          ),
        })),
      ),
    });
  }
  return charts;
}
