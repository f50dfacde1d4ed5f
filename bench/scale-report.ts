/**
 * The report's section for the scale scenario: memory per connection with
 * 10,000 idle users against the raw broadcaster's, and the chat latency of
 * the active clients with and without them.
 *
 * @module
 */
import type { BenchResult } from './bench';
import { cell, format, table } from './report-format';
import {
  MAX_SCALE_MEMORY_RATIO,
  MAX_SCALE_P99_RATIO,
  type ChatPeriod,
  type ScaleMeasurement,
} from './scale-bench';
import { summarize, type Summary } from './stats';
import { CHAT_SCENARIO_BCRYPT_COST } from './targets';
import { judge, judgementText, type Evidence, type Judgement } from './verdict';

/** The scale scenario's ratios, from the medians over rounds. */
export interface ScaleComparison {
  /** stage 6 RSS per idle connection / the raw broadcaster's (NaN if either is missing). */
  memoryRatio: number;
  /** {@link memoryRatio} against its goal (null if not measured). */
  memoryVerdict: Judgement | null;
  /** stage 6 chat p99 with the crowd / without (median over rounds; NaN if not measured). */
  p99Ratio: number;
  /** {@link p99Ratio} against its goal (null if not measured). */
  p99Verdict: Judgement | null;
  /** The raw broadcaster's p99 ratio in the same scenario, for comparison (NaN if not measured). */
  rawP99Ratio: number;
  /** True if stage 6 held every idle user it was asked to in every round (null if not measured). */
  heldAll: boolean | null;
}

/**
 * One number of one target's scale rounds, summarised.
 *
 * @param result - a finished run
 * @param target - the target's name
 * @param value - the number, from one round
 */
export function scaleSummary(
  result: BenchResult,
  target: string,
  value: (m: ScaleMeasurement) => number,
): Summary {
  return summarize(result.scale.filter((m) => m.target === target).map(value));
}

/**
 * Computes the scale scenario's ratios and verdicts.
 *
 * @param result - a finished run
 */
export function compareScale(result: BenchResult): ScaleComparison {
  const median = (target: string, value: (m: ScaleMeasurement) => number) =>
    scaleSummary(result, target, value).median;
  const rss = (m: ScaleMeasurement) => m.rssPerConnectionKiB;
  const memoryRatio = median('stage6', rss) / median('raw', rss);
  const p99Ratio = median('stage6', (m) => m.p99Ratio);
  const stage6 = result.scale.filter((m) => m.target === 'stage6');
  const ran = (target: string) => result.scale.some((m) => m.target === target);
  const evidence = (target: string, value: (m: ScaleMeasurement) => number, what: string) =>
    ({
      what: `${target} ${what}`,
      values: result.scale.filter((m) => m.target === target).map(value),
      rounds: result.options.scaleRounds,
    }) satisfies Evidence;
  return {
    memoryRatio,
    memoryVerdict:
      ran('stage6') && ran('raw')
        ? judge(memoryRatio, { atMost: MAX_SCALE_MEMORY_RATIO }, [
            evidence('stage6', rss, 'RSS KiB per idle connection'),
            evidence('raw', rss, 'RSS KiB per idle connection'),
          ])
        : null,
    p99Ratio,
    p99Verdict: ran('stage6')
      ? judge(p99Ratio, { atMost: MAX_SCALE_P99_RATIO }, [
          evidence('stage6', (m) => m.quiet.p99Ms, 'chat p99 ms without the crowd'),
          evidence('stage6', (m) => m.crowded.p99Ms, 'chat p99 ms with the crowd'),
        ])
      : null,
    rawP99Ratio: median('raw', (m) => m.p99Ratio),
    heldAll:
      stage6.length === 0
        ? null
        : stage6.every((m) => m.opened === m.requested && m.disconnected === 0),
  };
}

/**
 * Formats the scale scenario's rounds as lines (none if it did not run).
 *
 * @param result - a finished run
 */
export function formatScaleReport(result: BenchResult): string[] {
  if (result.scale.length === 0) return [];
  const o = result.options;
  const targets = [...new Set(result.scale.map((m) => m.target))];
  const rounds = { rounds: Math.max(...targets.map((t) => roundsOf(result, t))) };
  const col = (target: string, value: (m: ScaleMeasurement) => number, digits: number) =>
    cell(scaleSummary(result, target, value), digits, rounds);
  const first = result.scale[0]!;
  const out: string[] = [
    `scale: ${format(o.scale, 0)} idle clients (stage 6: registered and logged in at bcrypt ` +
      `cost ${CHAT_SCENARIO_BCRYPT_COST}, a bench-only setting), held by ${first.loadProcesses} ` +
      `load process(es); ${o.active} active clients chatting at ${o.activeRate} messages/s in ` +
      `all, ${o.scaleSeconds} s measured per period. The active clients join before the ` +
      `idle ones, so each broadcast reaches them first; the server still writes every ` +
      `message to every member (its CPU column shows that cost).`,
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
        col(t, (m) => m.opened, 0),
        col(t, (m) => m.connectSeconds, 1),
        col(t, (m) => m.connectCpuSeconds, 1),
        col(t, (m) => m.rssPerConnectionKiB, 2),
        col(t, (m) => m.heapPerConnectionKiB ?? NaN, 2),
        col(t, (m) => m.baselineRssKiB / 1024, 1),
      ]),
    ]),
    '',
    table([
      ['target', 'idle users', 'chat p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server CPU %'],
      ...targets.flatMap((t) =>
        (['quiet', 'crowded'] as const).map((period) => {
          const of = (value: (p: ChatPeriod) => number) => (m: ScaleMeasurement) =>
            value(m[period]);
          return [
            t,
            period === 'quiet' ? 'none' : format(o.scale, 0),
            col(
              t,
              of((p) => p.p50Ms),
              2,
            ),
            col(
              t,
              of((p) => p.p90Ms),
              2,
            ),
            col(
              t,
              of((p) => p.p99Ms),
              2,
            ),
            col(
              t,
              of((p) => p.maxMs),
              1,
            ),
            col(
              t,
              of((p) => p.serverCpuPercent),
              0,
            ),
          ];
        }),
      ),
    ]),
    '',
  ];
  const c = compareScale(result);
  const verdict = (j: Judgement | null) => (j === null ? '' : `: ${judgementText(j, true)}`);
  if (c.memoryVerdict !== null) {
    out.push(
      `stage6 / raw: memory per connection with ${format(o.scale, 0)} idle ` +
        `${format(c.memoryRatio, 2)}x (goal <= ${MAX_SCALE_MEMORY_RATIO}x${verdict(c.memoryVerdict)})`,
    );
  }
  if (c.p99Verdict !== null) {
    const raw = Number.isFinite(c.rawP99Ratio)
      ? `; raw in the same scenario: ${format(c.rawP99Ratio, 2)}x`
      : '';
    out.push(
      `stage6 chat p99 with ${format(o.scale, 0)} idle / without: ${format(c.p99Ratio, 2)}x ` +
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

function roundsOf(result: BenchResult, target: string): number {
  return result.scale.filter((m) => m.target === target).length;
}
