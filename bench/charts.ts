/**
 * The report's charts: grouped bar charts of medians over rounds, with a
 * whisker from the smallest to the largest round, written as SVG by hand:
 * plain SVG diffs well in git, renders on GitHub and adds no dependency.
 *
 * @module
 */
import type { BenchResult } from './bench';
import { format } from './report-format';
import { summarize, type Summary } from './stats';
import { METRICS, rowsOf, type Metric } from './verdicts';

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

type ChartName = (typeof CHART_NAMES)[number];

/** The latency percentiles the charts show, one bar each. */
const PERCENTILES = ['p50', 'p90', 'p99'] as const;

/** One bar per percentile: its median and range over some periods' latencies. */
function latencyBars(periods: { p50Ms: number; p90Ms: number; p99Ms: number }[]): Summary[] {
  return PERCENTILES.map((p) => summarize(periods.map((m) => m[`${p}Ms`])));
}

/** Builds the charts for the parts of the run that were measured. */
export function buildCharts(result: BenchResult): ChartFile[] {
  const o = result.options;
  const charts: ChartFile[] = [];
  const add = (name: ChartName, section: ChartFile['section'], chart: BarChart) =>
    charts.push({ name, alt: chart.title, section, svg: barChartSvg(chart) });
  const of = (target: string, metric: Metric) =>
    summarize(rowsOf(result.rounds, target).map(metric));
  const has = (target: string, metric: Metric) => Number.isFinite(of(target, metric).median);

  const fanout = result.targets.filter((t) => has(t.name, METRICS.throughput));
  if (fanout.length > 0) {
    add('throughput.svg', 'fanout', {
      title: 'Fan-out: delivered messages per second',
      unit: 'msg/s',
      scale: 'log',
      series: ['delivered msg/s'],
      groups: fanout.map((t) => ({ label: t.name, values: [of(t.name, METRICS.throughput)] })),
    });
    add('latency.svg', 'fanout', {
      title: 'Fan-out: end-to-end latency',
      unit: 'ms',
      scale: 'log',
      series: [...PERCENTILES],
      groups: fanout.map((t) => ({
        label: t.name,
        values: latencyBars(rowsOf(result.rounds, t.name).flatMap((m) => m.fanout ?? [])),
      })),
    });
  }

  // Memory per idle connection: one series at the idle scenario's size, one at the scale's.
  const scaled = [...new Set(result.scale.map((m) => m.target))];
  const memory: [string, (target: string) => Summary][] = [];
  if (result.targets.some((t) => has(t.name, METRICS.memory))) {
    memory.push([`${format(o.idle, 0)} idle`, (t) => of(t, METRICS.memory)]);
  }
  if (scaled.length > 0) {
    const rss = (t: string) => summarize(rowsOf(result.scale, t).map((m) => m.rssPerConnectionKiB));
    memory.push([`${format(o.scale, 0)} idle (scale)`, rss]);
  }
  const memoryTargets = result.targets.filter(
    (t) => has(t.name, METRICS.memory) || scaled.includes(t.name),
  );
  if (memoryTargets.length > 0) {
    add('memory.svg', 'idle', {
      title: 'Server memory per idle connection (RSS after GC)',
      unit: 'KiB per connection',
      series: memory.map(([name]) => name),
      groups: memoryTargets.map((t) => ({
        label: t.name,
        values: memory.map(([, summary]) => summary(t.name)),
      })),
    });
  }

  if (result.bursts.length > 0) {
    add('login-burst.svg', 'burst', {
      title: `Stage 6 chat latency during a burst of ${o.burst} logins`,
      unit: 'ms',
      series: [...PERCENTILES],
      groups: [
        { label: 'no logins', values: latencyBars(result.bursts.map((m) => m.quiet)) },
        { label: `${o.burst} logins`, values: latencyBars(result.bursts.map((m) => m.burst)) },
      ],
    });
  }

  if (scaled.length > 0) {
    const users = format(o.scale, 0);
    const periods = [
      ['quiet', 'alone'],
      ['crowded', `+${users} idle`],
    ] as const;
    add('scale-latency.svg', 'scale', {
      title: `Chat latency of ${o.active} active clients, alone and with ${users} idle`,
      unit: 'ms',
      scale: 'log',
      series: [...PERCENTILES],
      groups: scaled.flatMap((t) =>
        periods.map(([period, label]) => ({
          label: `${t} ${label}`,
          values: latencyBars(rowsOf(result.scale, t).map((m) => m[period])),
        })),
      ),
    });
  }
  return charts;
}

/** One bar chart. */
export interface BarChart {
  /** The headline above the chart. */
  title: string;
  /** The unit of the values, shown on the axis (e.g. `msg/s`, `ms`). */
  unit: string;
  /** The series' names: each group has one bar per series, in this order. */
  series: string[];
  /** The groups along the horizontal axis, e.g. one per stage: a label, and a value per series (null: no bar). */
  groups: { label: string; values: (Summary | null)[] }[];
  /**
   * `log` for values spanning orders of magnitude (2 million next to 100,000
   * messages per second): on a linear axis the small bars would vanish.
   */
  scale?: 'linear' | 'log';
}

const WIDTH = 760;
const HEIGHT = 380;
/** The plot inside the margins (top 64, right 24, bottom 56, left 76). */
const PLOT = { x: 76, y: 64, width: 660, height: 260 };
const GREY = '#444444';
// Colour-blind-safe (Paul Tol's "bright" scheme).
const COLORS = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377'];

/** Draws a bar chart as a standalone SVG document. */
export function barChartSvg(chart: BarChart): string {
  const finite = chart.groups
    .flatMap((g) => g.values.flatMap((v) => (v ? [v.min, v.median, v.max] : [])))
    .filter(Number.isFinite);
  const axis = chart.scale === 'log' ? logAxis(finite) : linearAxis(finite);
  // Value → vertical pixel (the SVG y axis points down).
  const y = (value: number) => PLOT.y + PLOT.height * (1 - axis.position(value));
  const out = [
    `<title>${escape(chart.title)}</title>`,
    element('rect', { width: WIDTH, height: HEIGHT, fill: '#ffffff' }),
    text(WIDTH / 2, 22, chart.title, { anchor: 'middle', size: 15, weight: 'bold' }),
  ];
  for (const tick of axis.ticks) {
    const ty = round(y(tick));
    out.push(
      element('line', { x1: PLOT.x, y1: ty, x2: PLOT.x + PLOT.width, y2: ty, stroke: '#dddddd' }),
      text(PLOT.x - 6, ty + 4, compact(tick), { anchor: 'end', fill: GREY }),
    );
  }
  // The unit above the axis, horizontal: rotated text is not drawn by every SVG renderer.
  out.push(text(8, PLOT.y - 10, `${chart.unit}${axis.log ? ' (log scale)' : ''}`, { fill: GREY }));

  // The bars: groups share the width equally; bars share 70% of their group's.
  const groupWidth = PLOT.width / Math.max(1, chart.groups.length);
  const barWidth = Math.min(56, (groupWidth * 0.7) / Math.max(1, chart.series.length));
  chart.groups.forEach((group, g) => {
    const center = PLOT.x + groupWidth * (g + 0.5);
    const left = center - (barWidth * chart.series.length) / 2;
    group.values.forEach((value, s) => {
      if (!value || !Number.isFinite(value.median)) return;
      const x = left + barWidth * s;
      const top = y(value.median);
      const tooltip = `${group.label}, ${chart.series[s]}: ${compact(value.median)} ${chart.unit}`;
      const size = { width: barWidth - 4, height: Math.max(0, y(axis.floor) - top) };
      const fill = COLORS[s % COLORS.length];
      out.push(
        element('rect', { x: x + 2, y: top, ...size, fill }, `<title>${escape(tooltip)}</title>`),
      );
      const mid = round(x + barWidth / 2);
      let labelY = top;
      if (Number.isFinite(value.min) && Number.isFinite(value.max) && value.max > value.min) {
        const [hi, lo] = [y(value.max), y(value.min)];
        const cap = round(Math.min(8, barWidth / 4));
        const whisker = [
          element('line', { x1: mid, y1: hi, x2: mid, y2: lo }),
          element('line', { x1: mid - cap, y1: hi, x2: mid + cap, y2: hi }),
          element('line', { x1: mid - cap, y1: lo, x2: mid + cap, y2: lo }),
        ];
        out.push(element('g', { stroke: '#222222', 'stroke-width': 1.2 }, whisker.join('')));
        labelY = Math.min(labelY, hi);
      }
      out.push(text(mid, labelY - 5, compact(value.median), { anchor: 'middle', size: 11 }));
    });
    out.push(text(center, PLOT.y + PLOT.height + 18, group.label, { anchor: 'middle' }));
  });

  // The axes, drawn last so the bars do not cover them.
  const baseY = round(y(axis.floor));
  out.push(
    element('line', { x1: PLOT.x, y1: PLOT.y, x2: PLOT.x, y2: baseY, stroke: GREY }),
    element('line', { x1: PLOT.x, y1: baseY, x2: PLOT.x + PLOT.width, y2: baseY, stroke: GREY }),
  );
  // The legend, one entry per series, in a row under the title, ending at the right edge.
  if (chart.series.length > 1) {
    const widths = chart.series.map((name) => 32 + name.length * 7);
    let x = PLOT.x + PLOT.width - widths.reduce((sum, w) => sum + w, 0) + 16;
    chart.series.forEach((name, s) => {
      const fill = COLORS[s % COLORS.length];
      out.push(element('rect', { x, y: 36, width: 12, height: 12, fill }), text(x + 16, 46, name));
      x += widths[s]!;
    });
  }
  const note = 'bars: median of the rounds; whiskers: min to max';
  out.push(
    text(PLOT.x + PLOT.width, HEIGHT - 8, note, { anchor: 'end', size: 10, fill: '#666666' }),
  );
  const root = {
    xmlns: 'http://www.w3.org/2000/svg',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': chart.title,
    'font-family': 'sans-serif',
    'font-size': 12,
  };
  return element('svg', root, `\n${out.join('\n')}\n`) + '\n';
}

/**
 * A linear axis from 0 to a round number above the largest value: its ticks,
 * its floor (where bars start) and each value's height from 0 to 1.
 */
function linearAxis(values: number[]) {
  const max = Math.max(0, ...values);
  const step = niceStep(max > 0 ? max / 5 : 1);
  const top = Math.max(step, Math.ceil((max * 1.08) / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(round(t, 6));
  return { log: false, floor: 0, ticks, position: (v: number) => Math.max(0, v) / top };
}

/** A logarithmic axis between the powers of ten around the values. */
function logAxis(values: number[]) {
  const positive = values.filter((v) => v > 0);
  const low = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(1, ...positive) * 1.3)));
  const ticks: number[] = [];
  for (let e = low; e <= high; e++) ticks.push(10 ** e);
  const floor = 10 ** low;
  const position = (v: number) => (Math.log10(Math.max(v, floor)) - low) / (high - low);
  return { log: true, floor, ticks, position };
}

/** 1, 2 or 5 times a power of ten: the tick step closest above `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** A short label for a value: `2.27M`, `99k`, `5.4`, `0.31`. */
export function compact(value: number): string {
  const abs = Math.abs(value);
  if (!Number.isFinite(value)) return '-';
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  if (abs >= 100) return String(Math.round(value));
  if (abs >= 10) return trim(value, 1);
  return trim(value, 2);
}

function trim(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** An SVG element: numbers rounded to a tenth, strings escaped, undefined attributes left out. */
function element(
  name: string,
  attributes: Record<string, string | number | undefined>,
  content?: string,
): string {
  const attrs = Object.entries(attributes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? round(value) : escape(value!)}"`)
    .join('');
  return content === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`;
}

function text(
  x: number,
  y: number,
  content: string,
  style: { anchor?: string; size?: number; weight?: string; fill?: string } = {},
): string {
  const { anchor, size, weight, fill } = style;
  const attributes = {
    x,
    y,
    'text-anchor': anchor,
    'font-size': size,
    'font-weight': weight,
    fill,
  };
  return element('text', attributes, escape(content));
}

/** Escapes text for use in SVG (XML) content and attribute values. */
function escape(content: string): string {
  return content
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
