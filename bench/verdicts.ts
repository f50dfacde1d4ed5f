/**
 * The ratios a run is judged by, and every goal's verdict: met, not met,
 * reported (a figure with no target), or inconclusive (bench/README.md).
 *
 * A measurement can come out impossible on a busy machine: the memory of 30
 * idle connections is a difference of two RSS readings, and a GC between
 * them makes it negative. A ratio of such numbers is still a number (-23.05×
 * is "≤ 2.5×"), so {@link judge} checks the inputs first and says
 * **inconclusive**, with the reason.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import type { ClusterLayout, ClusterMeasurement } from './cluster';
import { format, formatRatio } from './report-format';
import type { ScaleMeasurement } from './scale';
import { summarize } from './stats';
import { BASELINE } from './targets';

/** Stage 6 chat p99 during a login burst at most this multiple of without. */
export const MAX_BURST_P99_RATIO = 2;
/** Stage 6 memory per connection with the scale crowd at most this multiple of raw's. */
export const MAX_SCALE_MEMORY_RATIO = 2.5;
/** Stage 6 chat p99 with the scale crowd at most this multiple of without. */
export const MAX_SCALE_P99_RATIO = 2;

/** A goal's outcome and, when inconclusive, the reason. */
export interface Judgement {
  /** `reported` is a number with no target. */
  outcome: 'met' | 'not met' | 'inconclusive' | 'reported';
  /** Why the measurements cannot be judged (only when inconclusive). */
  reason?: string;
}

/** One input of a ratio: what it measures, and its value in each round that ran. */
export interface Evidence {
  /** What the values are, for the reason, e.g. `stage6 RSS per idle connection`. */
  what: string;
  /** One value per round (NaN for a round that produced none). */
  values: readonly number[];
  /** How many rounds the run asked for; fewer values means some never finished. */
  rounds: number;
}

/**
 * Judges a ratio against its goal (null: only reported), after checking that
 * every input is possible: some rounds, as many as asked for, each value
 * finite and positive.
 *
 * @example
 * ```ts
 * judge(-23.05, { atMost: 2.5 }, [{ what: 'stage6 RSS per connection', values: [-1.2], rounds: 1 }]);
 * //=> { outcome: 'inconclusive', reason: 'stage6 RSS per connection was -1.20 in round 1, which cannot be true' }
 * ```
 */
export function judge(
  ratio: number,
  goal: { atMost?: number; atLeast?: number } | null,
  evidence: readonly Evidence[],
): Judgement {
  const reason =
    impossibility(evidence) ??
    (Number.isFinite(ratio) && ratio > 0 ? undefined : `the ratio came out as ${String(ratio)}`);
  if (reason !== undefined) return { outcome: 'inconclusive', reason };
  if (goal === null) return { outcome: 'reported' };
  const met =
    (goal.atMost === undefined || ratio <= goal.atMost) &&
    (goal.atLeast === undefined || ratio >= goal.atLeast);
  return { outcome: met ? 'met' : 'not met' };
}

function impossibility(evidence: readonly Evidence[]): string | undefined {
  for (const e of evidence) {
    if (e.values.length === 0) return `no round measured ${e.what}`;
    const finished = e.values.filter((v) => !Number.isNaN(v)).length;
    if (finished < e.rounds) return `only ${finished} of ${e.rounds} rounds measured ${e.what}`;
    const odd = e.values.find((v) => !Number.isFinite(v) || v <= 0);
    if (odd !== undefined) {
      const value = Number.isFinite(odd) ? format(odd, 2) : String(odd);
      return `${e.what} was ${value} in round ${e.values.indexOf(odd) + 1}, which cannot be true`;
    }
  }
  return undefined;
}

/** The evidence of one figure over some rounds. */
function evidence<M>(what: string, rows: readonly M[], value: (m: M) => number, rounds: number) {
  return { what, values: rows.map(value), rounds };
}

/** A judgement in words: `met`, `NOT met` (`loud`, the terminal's style), `reported`, or `inconclusive: REASON`. */
export function judgementText(j: Judgement, loud = false): string {
  if (j.outcome === 'inconclusive') return `inconclusive: ${j.reason ?? 'no reason given'}`;
  return j.outcome === 'not met' && loud ? 'NOT met' : j.outcome;
}

/** The share of its pace a paced fan-out must send for its CPU figure to count. */
export const PACE_KEPT = 0.95;

/** One number taken from one target's round. */
export type Metric = (m: RoundMeasurement) => number;

/** The fan-out and idle figures the tables, ratios and charts share. */
export const METRICS = {
  /** Delivered messages per second in the fan-out. */
  throughput: ((m) => m.fanout?.deliveredPerSecond ?? NaN) as Metric,
  /** RSS growth per idle connection, KiB. */
  memory: ((m) => m.idle?.rssPerConnectionKiB ?? NaN) as Metric,
  /**
   * Server CPU time per delivered message in the paced fan-out, µs: the
   * figure the CPU goals judge. NaN when impossible, or when fewer than
   * {@link PACE_KEPT} of the paced messages were sent (the server fell
   * behind, so its reads differed from the others').
   */
  cpuPerMessage: ((m) =>
    m.paced && m.paced.sentPerSecond >= PACE_KEPT * m.paced.pace
      ? m.paced.serverCpuUsPerMessage
      : NaN) as Metric,
  /** Server CPU time per delivered message in the closed-loop fan-out, µs. */
  busyCpuPerMessage: ((m) => m.fanout?.serverCpuUsPerMessage ?? NaN) as Metric,
  /** The server's CPU during the fan-out, percent of one core. */
  serverCpu: ((m) => m.fanout?.serverCpuPercent ?? NaN) as Metric,
  /** The load process's CPU during the fan-out, percent of one core. */
  loadCpu: ((m) => m.fanout?.loadCpuPercent ?? NaN) as Metric,
  /** The load process's CPU per delivered message, µs: what the clients' own work costs. */
  loadCpuPerMessage: ((m) => {
    const us = m.fanout ? (m.fanout.loadCpuPercent / 100 / m.fanout.deliveredPerSecond) * 1e6 : NaN;
    return Number.isFinite(us) && us > 0 ? us : NaN;
  }) as Metric,
};

/** The rows of one target: its fan-out and idle rounds, or its scale rounds. */
export function rowsOf<M extends { target: string }>(rows: readonly M[], target: string): M[] {
  return rows.filter((m) => m.target === target);
}

/** The median of one figure over some rounds (rounds without it left out). */
export function medianOf<M>(rows: readonly M[], value: (m: M) => number): number {
  return summarize(rows.map(value)).median;
}

/** One target's comparison with one baseline: each ratio the median of the rounds' own ratios. */
export interface Comparison {
  /** The target's name. */
  target: string;
  /** The baseline's name. */
  baseline: string;
  /** True if this is the target's own fair baseline (same client work); only then are goals checked. */
  judged: boolean;
  /** Delivered messages per second, target / baseline. */
  throughputRatio: number;
  /** RSS per idle connection, target / baseline (NaN if not measured). */
  memoryRatio: number;
  /** Server CPU per delivered message in the paced fan-out, target / baseline. */
  cpuPerMessageRatio: number;
  /** Each round's throughput ratio, against the baseline measured in that round. */
  throughputRounds: number[];
  /** Each round's memory ratio (see {@link Comparison.throughputRounds}). */
  memoryRounds: number[];
  /** Each round's CPU-per-message ratio (see {@link Comparison.throughputRounds}). */
  cpuPerMessageRounds: number[];
  /** Verdicts (null: not judged, no goal, or not measured). */
  throughputVerdict: Judgement | null;
  /** See {@link Comparison.throughputVerdict}. */
  memoryVerdict: Judgement | null;
  /** See {@link Comparison.throughputVerdict}. */
  cpuPerMessageVerdict: Judgement | null;
}

/** Each compared figure: its name, scenario, goal field, direction and words. */
const RATIOS = [
  ['throughput', 'fanout', 'minThroughputRatio', 'atLeast', 'delivered msg/s', 'throughput'],
  [
    'memory',
    'idle',
    'maxMemoryRatio',
    'atMost',
    'RSS KiB per idle connection',
    'memory per idle connection',
  ],
  [
    'cpuPerMessage',
    'paced',
    'maxCpuPerMessageRatio',
    'atMost',
    'server CPU µs per delivered message (paced)',
    'server CPU per delivered message (paced)',
  ],
] as const;

/**
 * Compares every target other than `raw` with `raw`, and also with its own
 * fair baseline when that is another target in the run (stage 5 and 6 with
 * `raw-sealed`, stage 8 and 9 with stage 7). Goals are checked against the
 * fair baseline only.
 */
export function compare(result: BenchResult): Comparison[] {
  const ran = (name: string) => result.targets.some((t) => t.name === name);
  const measured = (rows: RoundMeasurement[], part: 'fanout' | 'paced' | 'idle') =>
    rows.some((m) => m[part] !== null);
  const comparisons: Comparison[] = [];
  for (const t of result.targets) {
    if (t.name === BASELINE.name) continue;
    const own = t.baseline ?? BASELINE.name;
    for (const baseline of new Set([BASELINE.name, own])) {
      if (!ran(baseline) || baseline === t.name) continue;
      const judged = baseline === own;
      const c = { target: t.name, baseline, judged } as Comparison;
      const target = rowsOf(result.rounds, t.name);
      const base = rowsOf(result.rounds, baseline);
      for (const [name, part, goalKey, direction, what] of RATIOS) {
        const metric = METRICS[name];
        const rounds = pairedRatios(target, base, metric);
        const ratio = summarize(rounds).median;
        const limit = judged ? t.goals?.[goalKey] : undefined;
        c[`${name}Rounds`] = rounds;
        c[`${name}Ratio`] = ratio;
        // Not measured at all (a scenario left out) is no verdict; measured
        // but impossible is "inconclusive".
        c[`${name}Verdict`] =
          limit === undefined || !measured(target, part) || !measured(base, part)
            ? null
            : judge(ratio, { [direction]: limit }, [
                evidence(`${t.name} ${what}`, target, metric, result.options.rounds),
                evidence(`${baseline} ${what}`, base, metric, result.options.rounds),
              ]);
      }
      comparisons.push(c);
    }
  }
  return comparisons;
}

/**
 * One figure's ratio target / baseline within each round, both measured in
 * that round (the rounds alternate the targets' order); impossible ones left
 * out. Every ratio the run judges is the median of these, not a ratio of
 * two medians: how fast the machine is drifts from round to round (a
 * neighbour on the host, the CPU's clock), and a round that is slow is slow
 * for both figures of its pair, so their ratio cancels the drift; a ratio
 * of medians may take its two medians from different rounds
 * (bench/README.md, "Ratios within a round").
 *
 * @param target - the target's rows (one per round)
 * @param baseline - the baseline's rows from the same run
 * @param value - the figure to compare
 */
function pairedRatios<M extends { round: number }>(
  target: readonly M[],
  baseline: readonly M[],
  value: (m: M) => number,
): number[] {
  const ratios = target.map((m) => {
    const base = baseline.find((r) => r.round === m.round);
    return base ? value(m) / value(base) : NaN;
  });
  return ratios.filter(Number.isFinite);
}

/** The scale scenario's ratios (medians of the rounds' ratios) and verdicts (null: not measured). */
export interface ScaleComparison {
  /** Stage 6 RSS per idle connection / raw's. */
  memoryRatio: number;
  /** That ratio in each round, against raw's in the same round. */
  memoryRounds: number[];
  /** {@link ScaleComparison.memoryRatio} against its goal. */
  memoryVerdict: Judgement | null;
  /** Stage 6 chat p99 with the crowd / without. */
  p99Ratio: number;
  /** {@link ScaleComparison.p99Ratio} against its goal. */
  p99Verdict: Judgement | null;
  /** Raw's p99 ratio in the same scenario, for comparison. */
  rawP99Ratio: number;
}

/** Computes the scale scenario's ratios and verdicts. */
export function compareScale(result: BenchResult): ScaleComparison {
  const stage6 = rowsOf(result.scale, 'stage6');
  const raw = rowsOf(result.scale, 'raw');
  const rss = (m: ScaleMeasurement) => m.rssPerConnectionKiB;
  const memoryRounds = pairedRatios(stage6, raw, rss);
  const memoryRatio = summarize(memoryRounds).median;
  const p99Ratio = medianOf(stage6, (m) => m.p99Ratio);
  const rounds = result.options.scaleRounds;
  const what = 'RSS KiB per idle connection';
  const p99 = (words: string, period: 'quiet' | 'crowded') =>
    evidence(`stage6 chat p99 ms ${words} the crowd`, stage6, (m) => m[period].p99Ms, rounds);
  return {
    memoryRatio,
    memoryRounds,
    memoryVerdict:
      stage6.length > 0 && raw.length > 0
        ? judge(memoryRatio, { atMost: MAX_SCALE_MEMORY_RATIO }, [
            evidence(`stage6 ${what}`, stage6, rss, rounds),
            evidence(`raw ${what}`, raw, rss, rounds),
          ])
        : null,
    p99Ratio,
    p99Verdict:
      stage6.length > 0
        ? judge(p99Ratio, { atMost: MAX_SCALE_P99_RATIO }, [
            p99('without', 'quiet'),
            p99('with', 'crowded'),
          ])
        : null,
    rawP99Ratio: medianOf(raw, (m) => m.p99Ratio),
  };
}

/** The burst goal: median over rounds of p99 during the burst / p99 without. */
export function burstVerdict(result: BenchResult): Judgement {
  const { bursts, options } = result;
  const p99 = (what: string, period: 'quiet' | 'burst') =>
    evidence(`stage6 chat p99 ms ${what}`, bursts, (m) => m[period].p99Ms, options.rounds);
  return judge(
    medianOf(bursts, (m) => m.p99Ratio),
    { atMost: MAX_BURST_P99_RATIO },
    [p99('without logins', 'quiet'), p99('during the logins', 'burst')],
  );
}

/** `1 node alone`, `2 nodes via Redis`. */
export function layoutName(layout: ClusterLayout): string {
  return `${layout.nodes} node${layout.nodes === 1 ? '' : 's'} ${layout.redis ? 'via Redis' : 'alone'}`;
}

/** The cluster rounds of one layout (as many nodes, the same bus). */
export function layoutRows(result: BenchResult, layout: ClusterLayout): ClusterMeasurement[] {
  return result.cluster.filter((m) => m.nodes === layout.nodes && m.redis === layout.redis);
}

/** One goal's outcome, as the goals table shows it. */
export interface Verdict extends Judgement {
  /** The goal, in words, e.g. `stage4 throughput ≥ 0.9× raw`. */
  goal: string;
  /** The ratio (the median of the rounds' ratios), and their range when there were several. */
  measured: string;
}

/** Judges every goal the run measured, in the order the goals table lists them. */
export function verdicts(result: BenchResult): Verdict[] {
  const out: Verdict[] = [];
  for (const c of compare(result).filter((c) => c.judged)) {
    const goals = result.targets.find((t) => t.name === c.target)?.goals;
    for (const [name, , goalKey, direction, , words] of RATIOS) {
      const limit = goals?.[goalKey];
      const verdict = c[`${name}Verdict`];
      if (limit === undefined || verdict === null) continue;
      out.push({
        goal: `${c.target} ${words} ${direction === 'atMost' ? '≤' : '≥'} ${limit}× ${c.baseline}`,
        measured: ratioText(c[`${name}Ratio`], c[`${name}Rounds`], limit),
        ...verdict,
      });
    }
  }
  const { logins, bursts, options } = result;
  if (logins.length > 0) {
    const ratios = logins.map((m) => m.ratio);
    const median = summarize(ratios).median;
    out.push({
      goal: 'stage6 logins/s against workers / t_hash (no target: reported)',
      measured: ratioText(median, ratios),
      ...judge(median, null, [
        evidence('stage6 logins/s', logins, (m) => m.loginsPerSecond, options.rounds),
        evidence('stage6 t_hash ms', logins, (m) => m.hashMs, options.rounds),
      ]),
    });
  }
  if (bursts.length > 0) {
    const ratios = bursts.map((m) => m.p99Ratio);
    out.push({
      goal: `stage6 chat p99 during ${options.burst} logins ≤ ${MAX_BURST_P99_RATIO}× without`,
      measured: ratioText(summarize(ratios).median, ratios, MAX_BURST_P99_RATIO),
      ...burstVerdict(result),
    });
  }
  out.push(...scaleVerdicts(result));
  const cluster = clusterVerdict(result);
  if (cluster !== null) out.push(cluster);
  return out;
}

/** The scale scenario's goals: every user held, memory per connection, and chat p99. */
function scaleVerdicts(result: BenchResult): Verdict[] {
  const stage6 = rowsOf(result.scale, 'stage6');
  if (stage6.length === 0) return [];
  const users = format(result.options.scale, 0);
  const scale = compareScale(result);
  const held = stage6.every((m) => m.opened === m.requested && m.disconnected === 0);
  const least = Math.min(...stage6.map((m) => m.opened));
  const dropped = stage6.some((m) => m.disconnected > 0) ? ', some dropped' : '';
  const out: Verdict[] = [
    {
      goal: `stage6 holds ${users} logged-in users at once`,
      measured: `${format(least, 0)} connected and logged in${dropped}`,
      outcome: held ? 'met' : 'not met',
    },
  ];
  if (scale.memoryVerdict !== null) {
    out.push({
      goal: `stage6 memory per connection with ${users} idle ≤ ${MAX_SCALE_MEMORY_RATIO}× raw`,
      measured: ratioText(scale.memoryRatio, scale.memoryRounds, MAX_SCALE_MEMORY_RATIO),
      ...scale.memoryVerdict,
    });
  }
  const raw = Number.isFinite(scale.rawP99Ratio) ? ` (raw: ${format(scale.rawP99Ratio, 2)}×)` : '';
  const p99Ratios = stage6.map((m) => m.p99Ratio);
  out.push({
    goal: `stage6 chat p99 with ${users} idle ≤ ${MAX_SCALE_P99_RATIO}× without`,
    measured: ratioText(scale.p99Ratio, p99Ratios, MAX_SCALE_P99_RATIO) + raw,
    ...scale.p99Verdict!,
  });
  return out;
}

/**
 * The cluster scenario's goal line: reported, never met (no goal a 2-core
 * machine could test), or inconclusive when Redis could not be reached or a
 * figure cannot be true; null if the scenario was not asked for.
 */
function clusterVerdict(result: BenchResult): Verdict | null {
  const goal = 'stage9 server CPU per delivered message, 3 nodes via Redis / 1 alone (reported)';
  if (result.clusterSkipped !== null) {
    return { goal, measured: 'not run', outcome: 'inconclusive', reason: result.clusterSkipped };
  }
  if (result.cluster.length === 0) return null;
  const three = { nodes: 3, redis: true };
  const alone = { nodes: 1, redis: false };
  const cpu = (m: ClusterMeasurement) => m.serverCpuUsPerMessage;
  const ratio = summarize(
    pairedRatios(layoutRows(result, three), layoutRows(result, alone), cpu),
  ).median;
  const evidenceOf = (layout: ClusterLayout) =>
    evidence(
      `stage9 ${layoutName(layout)} server CPU µs per delivered message`,
      layoutRows(result, layout),
      cpu,
      result.options.rounds,
    );
  return {
    goal,
    measured: `${format(ratio, 2)}×`,
    ...judge(ratio, null, [evidenceOf(three), evidenceOf(alone)]),
  };
}

/**
 * `1.39×`, or `1.39× (rounds 1.20–1.52×)` when there were several rounds;
 * with more decimals where two would hide which side of `limit` it is on
 * (see `formatRatio`).
 */
function ratioText(ratio: number, rounds: number[], limit?: number): string {
  const text = `${formatRatio(ratio, limit)}×`;
  if (rounds.length < 2) return text;
  const s = summarize(rounds);
  return `${text} (rounds ${format(s.min, 2)}–${format(s.max, 2)}×)`;
}
