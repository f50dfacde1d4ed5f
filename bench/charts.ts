/**
 * The report's charts: grouped bar charts of medians over rounds, with a
 * whisker from the smallest to the largest round, written as SVG by hand.
 * The charts are simple (bars, whiskers, an axis, a legend); plain SVG text
 * diffs well in git, renders on GitHub and in the docs site, and adds no
 * dependency. The only real work is mapping values to pixels.
 *
 * @module
 */
import type { BenchResult } from './bench';
import { format } from './report-format';
import type { ScaleMeasurement } from './scale';
import { summarize, type Summary } from './stats';
import { METRICS, scaleSummary, valuesOf, type Metric } from './verdicts';

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

  const fanout = result.targets.filter((t) => has(t.name, METRICS.throughput));
  if (fanout.length > 0) {
    add('throughput.svg', 'fanout', {
      title: 'Fan-out: delivered messages per second',
      unit: 'msg/s',
      scale: 'log',
      series: ['delivered msg/s'],
      groups: fanout.map((t) => ({ label: t.name, values: [rounds(t.name, METRICS.throughput)] })),
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

  const idle = result.targets.filter((t) => has(t.name, METRICS.memory));
  const scaled = [...new Set(result.scale.map((m) => m.target))];
  const memoryTargets = result.targets.filter(
    (t) => has(t.name, METRICS.memory) || scaled.includes(t.name),
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
        if (idle.length > 0)
          values.push(has(t.name, METRICS.memory) ? rounds(t.name, METRICS.memory) : null);
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

/** One bar chart. */
export interface BarChart {
  /** The headline above the chart. */
  title: string;
  /** The unit of the values, shown on the axis (e.g. `msg/s`, `ms`). */
  unit: string;
  /** The series' names: each group has one bar per series, in this order. */
  series: string[];
  /** The groups along the horizontal axis. */
  groups: BarGroup[];
  /**
   * `log` for values spanning orders of magnitude (2 million next to 100,000
   * messages per second): on a linear axis the small bars would vanish.
   * Default `linear`.
   */
  scale?: 'linear' | 'log';
  /** A horizontal reference line, e.g. a target. */
  line?: { value: number; label: string };
}

/** One group of bars, e.g. one stage. */
export interface BarGroup {
  /** The label under the group. */
  label: string;
  /** One value per series (null: that series has no bar here). */
  values: (Summary | null)[];
}

const WIDTH = 760;
const HEIGHT = 380;
const MARGIN = { top: 64, right: 24, bottom: 56, left: 76 };
// Colour-blind-safe (Paul Tol's "bright" scheme).
const COLORS = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377'];

/**
 * Draws a bar chart as a standalone SVG document.
 *
 * @param chart - what to draw
 * @returns the SVG text
 */
export function barChartSvg(chart: BarChart): string {
  const plot = {
    x: MARGIN.left,
    y: MARGIN.top,
    width: WIDTH - MARGIN.left - MARGIN.right,
    height: HEIGHT - MARGIN.top - MARGIN.bottom,
  };
  const finite = chart.groups.flatMap((g) =>
    g.values.flatMap((v) => (v ? [v.min, v.median, v.max] : [])).filter(Number.isFinite),
  );
  if (chart.line) finite.push(chart.line.value);
  const axis = (chart.scale ?? 'linear') === 'log' ? logAxis(finite) : linearAxis(finite);
  // Value → vertical pixel (the SVG y axis points down).
  const y = (value: number) => plot.y + plot.height * (1 - axis.position(value));

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(chart.title)}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<title>${escape(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 22, chart.title, { size: 15, anchor: 'middle', weight: 'bold' }),
  );

  // Grid lines and tick labels, then the unit along the axis.
  for (const tick of axis.ticks) {
    const ty = round(y(tick));
    out.push(
      `<line x1="${plot.x}" y1="${ty}" x2="${plot.x + plot.width}" y2="${ty}" stroke="#dddddd"/>`,
      text(plot.x - 6, ty + 4, compact(tick), { anchor: 'end', fill: '#444444' }),
    );
  }
  // The unit above the axis, horizontal: rotated text is not drawn by every SVG renderer.
  const unit = `${chart.unit}${axis.log ? ' (log scale)' : ''}`;
  out.push(text(8, plot.y - 10, unit, { fill: '#444444' }));

  // The bars: groups share the width equally; bars share 70% of their group's.
  const groupWidth = plot.width / Math.max(1, chart.groups.length);
  const barWidth = Math.min(56, (groupWidth * 0.7) / Math.max(1, chart.series.length));
  chart.groups.forEach((group, g) => {
    const center = plot.x + groupWidth * (g + 0.5);
    const left = center - (barWidth * chart.series.length) / 2;
    group.values.forEach((value, s) => {
      if (!value || !Number.isFinite(value.median)) return;
      const x = left + barWidth * s;
      const top = y(value.median);
      const bottom = y(axis.floor);
      const color = COLORS[s % COLORS.length]!;
      out.push(
        `<rect x="${round(x + 2)}" y="${round(top)}" width="${round(barWidth - 4)}" ` +
          `height="${round(Math.max(0, bottom - top))}" fill="${color}">` +
          `<title>${escape(`${group.label}, ${chart.series[s]}: ${compact(value.median)} ${chart.unit}`)}</title></rect>`,
      );
      const mid = round(x + barWidth / 2);
      let labelY = top;
      if (Number.isFinite(value.min) && Number.isFinite(value.max) && value.max > value.min) {
        const [hi, lo] = [round(y(value.max)), round(y(value.min))];
        const cap = round(Math.min(8, barWidth / 4));
        out.push(
          `<g stroke="#222222" stroke-width="1.2">` +
            `<line x1="${mid}" y1="${hi}" x2="${mid}" y2="${lo}"/>` +
            `<line x1="${round(mid - cap)}" y1="${hi}" x2="${round(mid + cap)}" y2="${hi}"/>` +
            `<line x1="${round(mid - cap)}" y1="${lo}" x2="${round(mid + cap)}" y2="${lo}"/></g>`,
        );
        labelY = Math.min(labelY, y(value.max));
      }
      out.push(text(mid, labelY - 5, compact(value.median), { anchor: 'middle', size: 11 }));
    });
    out.push(text(center, plot.y + plot.height + 18, group.label, { anchor: 'middle' }));
  });

  // The axes, drawn last so the bars do not cover them.
  const baseY = round(y(axis.floor));
  out.push(
    `<line x1="${plot.x}" y1="${plot.y}" x2="${plot.x}" y2="${baseY}" stroke="#444444"/>`,
    `<line x1="${plot.x}" y1="${baseY}" x2="${plot.x + plot.width}" y2="${baseY}" stroke="#444444"/>`,
  );
  if (chart.line) {
    const ly = round(y(chart.line.value));
    out.push(
      `<line x1="${plot.x}" y1="${ly}" x2="${plot.x + plot.width}" y2="${ly}" ` +
        `stroke="#aa3377" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      text(plot.x + plot.width - 4, ly - 5, chart.line.label, { anchor: 'end', fill: '#aa3377' }),
    );
  }

  // The legend, one entry per series, in a row under the title, ending at the right edge.
  if (chart.series.length > 1) {
    const widths = chart.series.map((name) => 16 + name.length * 7 + 16);
    let x = WIDTH - MARGIN.right - widths.reduce((sum, w) => sum + w, 0) + 16;
    chart.series.forEach((name, s) => {
      out.push(
        `<rect x="${round(x)}" y="36" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`,
        text(x + 16, 46, name, {}),
      );
      x += widths[s]!;
    });
  }
  out.push(
    text(WIDTH - MARGIN.right, HEIGHT - 8, 'bars: median of the rounds; whiskers: min to max', {
      anchor: 'end',
      size: 10,
      fill: '#666666',
    }),
    '</svg>',
  );
  return out.join('\n') + '\n';
}

/** Where values sit on the vertical axis (0 at the bottom, 1 at the top) and its ticks. */
interface Axis {
  /** True for a logarithmic axis. */
  log: boolean;
  /** The value at the bottom of the plot, where bars start. */
  floor: number;
  /** Values with a grid line and a label. */
  ticks: number[];
  /** A value's height in the plot, from 0 (bottom) to 1 (top). */
  position(value: number): number;
}

/** A linear axis from 0 to a round number above the largest value. */
function linearAxis(values: number[]): Axis {
  const max = Math.max(0, ...values);
  const step = niceStep(max > 0 ? max / 5 : 1);
  const top = Math.max(step, Math.ceil((max * 1.08) / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(round(t, 6));
  return { log: false, floor: 0, ticks, position: (v) => Math.max(0, v) / top };
}

/** A logarithmic axis between the powers of ten around the values. */
function logAxis(values: number[]): Axis {
  const positive = values.filter((v) => v > 0);
  const low = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(1, ...positive) * 1.3)));
  const ticks: number[] = [];
  for (let e = low; e <= high; e++) ticks.push(10 ** e);
  const floor = 10 ** low;
  return {
    log: true,
    floor,
    ticks,
    position: (v) => (Math.log10(Math.max(v, floor)) - low) / (high - low),
  };
}

/** 1, 2 or 5 times a power of ten: the tick step closest above `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/**
 * A short label for a value: `2.27M`, `99k`, `5.4`, `0.31`.
 *
 * @param value - the number
 */
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

function text(
  x: number,
  y: number,
  content: string,
  style: { anchor?: string; size?: number; weight?: string; fill?: string },
): string {
  const attrs = [`x="${round(x)}"`, `y="${round(y)}"`];
  if (style.anchor) attrs.push(`text-anchor="${style.anchor}"`);
  if (style.size) attrs.push(`font-size="${style.size}"`);
  if (style.weight) attrs.push(`font-weight="${style.weight}"`);
  if (style.fill) attrs.push(`fill="${style.fill}"`);
  return `<text ${attrs.join(' ')}>${escape(content)}</text>`;
}

/** Escapes text for use in SVG (XML) content and attribute values. */
function escape(content: string): string {
  return content
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
