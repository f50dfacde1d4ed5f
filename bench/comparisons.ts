/**
 * The ratios a run is judged by: each target's medians divided by its
 * baselines' (plain `raw`, and its own fair baseline when that differs), for
 * throughput, memory per idle connection and server CPU per message.
 *
 * Ratios, not absolute numbers, are the result: absolute messages per second
 * depend on the machine, while "stage 4 delivers this fraction of what raw Node
 * delivers on the same machine in the same run" carries over to other machines.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import { summarize } from './stats';
import { BASELINE } from './targets';
import { judge, type Evidence, type Judgement } from './verdict';

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
  /** Its server CPU time per delivered message divided by the baseline's (ratio of medians). */
  cpuPerMessageRatio: number;
  /** The same ratio within each round, against the baseline measured in that round. */
  cpuPerMessageRounds: number[];
  /** The CPU-per-message target's verdict (null if not judged, no target, or not measured). */
  cpuPerMessageVerdict: Judgement | null;
  /** The throughput goal's verdict (null if not judged, no goal, or not measured). */
  throughputVerdict: Judgement | null;
  /** The memory goal's verdict (null if not judged, no goal, or not measured). */
  memoryVerdict: Judgement | null;
}

/** One number taken from one target's round. */
export type Metric = (m: RoundMeasurement) => number;

/** Delivered messages per second in the fan-out. */
export const THROUGHPUT: Metric = (m) => m.fanout?.deliveredPerSecond ?? NaN;
/** RSS growth per idle connection, KiB. */
export const MEMORY: Metric = (m) => m.idle?.rssPerConnectionKiB ?? NaN;
/** Server CPU time per delivered message, µs (NaN when impossible; see `cpuMicrosPerMessage`). */
export const CPU_PER_MESSAGE: Metric = (m) => m.fanout?.serverCpuUsPerMessage ?? NaN;
/** The load process's CPU during the fan-out, percent of one core. */
export const LOAD_CPU: Metric = (m) => m.fanout?.loadCpuPercent ?? NaN;
/**
 * The load process's CPU time per delivered message during the fan-out, µs:
 * what the clients' own work costs (for stage 8: verifying and opening every
 * message received, plus signing and sealing each one sent, shared by its
 * receivers). NaN when impossible.
 */
export const LOAD_CPU_PER_MESSAGE: Metric = (m) => {
  const us = m.fanout ? (m.fanout.loadCpuPercent / 100 / m.fanout.deliveredPerSecond) * 1e6 : NaN;
  return Number.isFinite(us) && us > 0 ? us : NaN;
};
/** The server's CPU during the fan-out, percent of one core. */
export const SERVER_CPU: Metric = (m) => m.fanout?.serverCpuPercent ?? NaN;

/**
 * One metric's values over the rounds of one target that measured it.
 *
 * @param result - a finished run
 * @param target - the target's name
 * @param metric - the number
 */
export function valuesOf(result: BenchResult, target: string, metric: Metric): number[] {
  return result.rounds
    .filter((m) => m.target === target)
    .map(metric)
    .filter((v) => !Number.isNaN(v));
}

/**
 * One metric of one target in every round, NaN where a round has none, as
 * evidence for a verdict.
 *
 * @param result - a finished run
 * @param target - the target's name
 * @param metric - the number
 * @param what - the words for it, e.g. `delivered msg/s`
 */
export function evidenceOf(
  result: BenchResult,
  target: string,
  metric: Metric,
  what: string,
): Evidence {
  return {
    what: `${target} ${what}`,
    values: result.rounds.filter((m) => m.target === target).map(metric),
    rounds: result.options.rounds,
  };
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
      const maxCpu = judged ? t.goals?.maxCpuPerMessageRatio : undefined;
      const cpuPerMessageRatio = ratio(CPU_PER_MESSAGE);
      // Not measured at all (a scenario left out) is no verdict; measured but
      // impossible is "inconclusive" (see verdict.ts).
      const measured = (name: string, part: 'fanout' | 'idle') =>
        result.rounds.some((m) => m.target === name && m[part] !== null);
      const both = (part: 'fanout' | 'idle') => measured(t.name, part) && measured(baseline, part);
      const evidence = (metric: Metric, what: string) => [
        evidenceOf(result, t.name, metric, what),
        evidenceOf(result, baseline, metric, what),
      ];
      comparisons.push({
        target: t.name,
        baseline,
        judged,
        throughputRatio,
        memoryRatio,
        cpuPerMessageRatio,
        cpuPerMessageRounds: roundRatios(result, t.name, baseline, CPU_PER_MESSAGE),
        cpuPerMessageVerdict:
          maxCpu === undefined || !both('fanout')
            ? null
            : judge(
                cpuPerMessageRatio,
                { atMost: maxCpu },
                evidence(CPU_PER_MESSAGE, 'server CPU µs per delivered message'),
              ),
        throughputVerdict:
          minThroughput === undefined || !both('fanout')
            ? null
            : judge(
                throughputRatio,
                { atLeast: minThroughput },
                evidence(THROUGHPUT, 'delivered msg/s'),
              ),
        memoryVerdict:
          maxMemory === undefined || !both('idle')
            ? null
            : judge(
                memoryRatio,
                { atMost: maxMemory },
                evidence(MEMORY, 'RSS KiB per idle connection'),
              ),
      });
    }
  }
  return comparisons;
}

/**
 * One metric's ratio target / baseline within each round, both measured in
 * that round (the rounds alternate the targets' order, so neither side always
 * runs first). Rounds where either figure is missing or impossible are left out.
 *
 * @param result - a finished run
 * @param target - the target's name
 * @param baseline - the baseline's name
 * @param metric - the number
 */
export function roundRatios(
  result: BenchResult,
  target: string,
  baseline: string,
  metric: Metric,
): number[] {
  const ratios: number[] = [];
  for (const m of result.rounds.filter((r) => r.target === target)) {
    const base = result.rounds.find((r) => r.target === baseline && r.round === m.round);
    if (base) ratios.push(metric(m) / metric(base));
  }
  return ratios.filter(Number.isFinite);
}
