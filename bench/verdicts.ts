/**
 * The ratios a run is judged by, and every goal's verdict: met, not met,
 * reported (a figure with no target), or inconclusive.
 *
 * Ratios, not absolute numbers, are the result: "stage 4 delivers this
 * fraction of what raw Node delivers on the same machine in the same run"
 * carries over to other machines. Every goal is a ratio of medians, and
 * every median comes from measurements that must be positive (messages per
 * second, KiB per connection, milliseconds). On a busy machine one can come
 * out impossible: the memory of 30 idle connections is a difference of two
 * RSS readings, and a GC between them makes it negative. A ratio of such
 * numbers is still a number (-23.05× is "≤ 2.5×"), so {@link judge} checks
 * the inputs first and says **inconclusive**, with the reason. A goal whose
 * measurements did not run (`--only`, `--scenario`) is not listed at all.
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import { format } from './report-format';
import type { ClusterLayout, ClusterMeasurement } from './cluster';
import type { ScaleMeasurement } from './scale';
import { summarize, type Summary } from './stats';
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

/** A judgement in words: `met`, `NOT met` (`loud`, the terminal's style), `reported`, or `inconclusive: REASON`. */
export function judgementText(j: Judgement, loud = false): string {
  if (j.outcome === 'inconclusive') return `inconclusive: ${j.reason ?? 'no reason given'}`;
  return j.outcome === 'not met' && loud ? 'NOT met' : j.outcome;
}

/** One number taken from one target's round. */
export type Metric = (m: RoundMeasurement) => number;

const positive = (us: number) => (Number.isFinite(us) && us > 0 ? us : NaN);

/** The fan-out and idle figures the tables, ratios and charts share. */
export const METRICS = {
  /** Delivered messages per second in the fan-out. */
  throughput: ((m) => m.fanout?.deliveredPerSecond ?? NaN) as Metric,
  /** RSS growth per idle connection, KiB. */
  memory: ((m) => m.idle?.rssPerConnectionKiB ?? NaN) as Metric,
  /** Server CPU time per delivered message, µs (NaN when impossible). */
  cpuPerMessage: ((m) => m.fanout?.serverCpuUsPerMessage ?? NaN) as Metric,
  /** The server's CPU during the fan-out, percent of one core. */
  serverCpu: ((m) => m.fanout?.serverCpuPercent ?? NaN) as Metric,
  /** The load process's CPU during the fan-out, percent of one core. */
  loadCpu: ((m) => m.fanout?.loadCpuPercent ?? NaN) as Metric,
  /**
   * The load process's CPU per delivered message, µs: what the clients' own
   * work costs (for stage 8: signing, sealing, verifying and opening).
   */
  loadCpuPerMessage: ((m) =>
    m.fanout
      ? positive((m.fanout.loadCpuPercent / 100 / m.fanout.deliveredPerSecond) * 1e6)
      : NaN) as Metric,
};

/** One metric's values over the rounds of one target that measured it. */
export function valuesOf(result: BenchResult, target: string, metric: Metric): number[] {
  return result.rounds
    .filter((m) => m.target === target)
    .map(metric)
    .filter((v) => !Number.isNaN(v));
}

/** One target's comparison with one baseline, from the medians of all rounds. */
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
  /** Server CPU per delivered message, target / baseline (ratio of medians). */
  cpuPerMessageRatio: number;
  /** The same ratio within each round, against the baseline measured in that round. */
  cpuPerMessageRounds: number[];
  /** Verdicts (null: not judged, no goal, or not measured). */
  throughputVerdict: Judgement | null;
  /** See {@link Comparison.throughputVerdict}. */
  memoryVerdict: Judgement | null;
  /** See {@link Comparison.throughputVerdict}. */
  cpuPerMessageVerdict: Judgement | null;
}

/** A ratio's name, its metric, its goal field and the words for its evidence. */
const RATIOS = [
  ['throughput', 'fanout', 'minThroughputRatio', 'atLeast', 'delivered msg/s'],
  ['memory', 'idle', 'maxMemoryRatio', 'atMost', 'RSS KiB per idle connection'],
  [
    'cpuPerMessage',
    'fanout',
    'maxCpuPerMessageRatio',
    'atMost',
    'server CPU µs per delivered message',
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
  const median = (target: string, metric: Metric) =>
    summarize(valuesOf(result, target, metric)).median;
  const measured = (name: string, part: 'fanout' | 'idle') =>
    result.rounds.some((m) => m.target === name && m[part] !== null);
  const evidenceOf = (target: string, metric: Metric, what: string): Evidence => ({
    what: `${target} ${what}`,
    values: result.rounds.filter((m) => m.target === target).map(metric),
    rounds: result.options.rounds,
  });
  const comparisons: Comparison[] = [];
  for (const t of result.targets) {
    if (t.name === BASELINE.name) continue;
    const own = t.baseline ?? BASELINE.name;
    for (const baseline of [...new Set([BASELINE.name, own])].filter(
      (b) => ran(b) && b !== t.name,
    )) {
      const judged = baseline === own;
      const c = { target: t.name, baseline, judged } as Comparison;
      for (const [name, part, goalKey, direction, what] of RATIOS) {
        const metric = METRICS[name];
        const ratio = median(t.name, metric) / median(baseline, metric);
        const limit = judged ? t.goals?.[goalKey] : undefined;
        c[`${name}Ratio`] = ratio;
        // Not measured at all (a scenario left out) is no verdict; measured
        // but impossible is "inconclusive".
        c[`${name}Verdict`] =
          limit === undefined || !measured(t.name, part) || !measured(baseline, part)
            ? null
            : judge(ratio, direction === 'atMost' ? { atMost: limit } : { atLeast: limit }, [
                evidenceOf(t.name, metric, what),
                evidenceOf(baseline, metric, what),
              ]);
      }
      c.cpuPerMessageRounds = roundRatios(result, t.name, baseline, METRICS.cpuPerMessage);
      comparisons.push(c);
    }
  }
  return comparisons;
}

/**
 * One metric's ratio target / baseline within each round, both measured in
 * that round (the rounds alternate the targets' order); impossible ones left out.
 */
function roundRatios(
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

/** One number of one target's scale rounds, summarised. */
export function scaleSummary(
  result: BenchResult,
  target: string,
  value: (m: ScaleMeasurement) => number,
): Summary {
  return summarize(result.scale.filter((m) => m.target === target).map(value));
}

/** The scale scenario's ratios (medians over rounds) and verdicts (null: not measured). */
export interface ScaleComparison {
  /** Stage 6 RSS per idle connection / raw's. */
  memoryRatio: number;
  /** {@link ScaleComparison.memoryRatio} against its goal. */
  memoryVerdict: Judgement | null;
  /** Stage 6 chat p99 with the crowd / without. */
  p99Ratio: number;
  /** {@link ScaleComparison.p99Ratio} against its goal. */
  p99Verdict: Judgement | null;
  /** Raw's p99 ratio in the same scenario, for comparison. */
  rawP99Ratio: number;
  /** True if stage 6 held every idle user in every round. */
  heldAll: boolean | null;
}

/** Computes the scale scenario's ratios and verdicts. */
export function compareScale(result: BenchResult): ScaleComparison {
  const median = (target: string, value: (m: ScaleMeasurement) => number) =>
    scaleSummary(result, target, value).median;
  const rss = (m: ScaleMeasurement) => m.rssPerConnectionKiB;
  const memoryRatio = median('stage6', rss) / median('raw', rss);
  const p99Ratio = median('stage6', (m) => m.p99Ratio);
  const stage6 = result.scale.filter((m) => m.target === 'stage6');
  const ran = (target: string) => result.scale.some((m) => m.target === target);
  const evidence = (target: string, value: (m: ScaleMeasurement) => number, what: string) => ({
    what: `${target} ${what}`,
    values: result.scale.filter((m) => m.target === target).map(value),
    rounds: result.options.scaleRounds,
  });
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

/** The burst goal: median over rounds of p99 during the burst / p99 without. */
export function burstVerdict(result: BenchResult): Judgement {
  const bursts = result.bursts;
  const evidence = (value: (m: (typeof bursts)[number]) => number, what: string) => ({
    what: `stage6 ${what}`,
    values: bursts.map(value),
    rounds: result.options.rounds,
  });
  return judge(summarize(bursts.map((m) => m.p99Ratio)).median, { atMost: MAX_BURST_P99_RATIO }, [
    evidence((m) => m.quiet.p99Ms, 'chat p99 ms without logins'),
    evidence((m) => m.burst.p99Ms, 'chat p99 ms during the logins'),
  ]);
}

/** `1 node alone`, `2 nodes via Redis`. */
export function layoutName(layout: ClusterLayout): string {
  return `${layout.nodes} node${layout.nodes === 1 ? '' : 's'} ${layout.redis ? 'via Redis' : 'alone'}`;
}

/** One number of one cluster layout's rounds, summarised. */
export function clusterSummary(
  result: BenchResult,
  layout: ClusterLayout,
  value: (m: ClusterMeasurement) => number,
): Summary {
  return summarize(result.cluster.filter((m) => sameLayout(m, layout)).map(value));
}

/** True if two layouts have as many nodes and the same bus. */
export const sameLayout = (a: ClusterLayout, b: ClusterLayout): boolean =>
  a.nodes === b.nodes && a.redis === b.redis;

/** One goal's outcome, as the goals table shows it. */
export interface Verdict extends Judgement {
  /** The goal, in words, e.g. `stage4 throughput ≥ 0.9× raw`. */
  goal: string;
  /** The ratio of medians, and the rounds' range when there were several. */
  measured: string;
}

const GOAL_WORDS = {
  throughput: (limit: number) => `throughput ≥ ${limit}×`,
  memory: (limit: number) => `memory per idle connection ≤ ${limit}×`,
  cpuPerMessage: (limit: number) => `server CPU per delivered message ≤ ${limit}×`,
};

/** Judges every goal the run measured, in the order the goals table lists them. */
export function verdicts(result: BenchResult): Verdict[] {
  const out: Verdict[] = [];
  for (const c of compare(result).filter((c) => c.judged)) {
    const goals = result.targets.find((t) => t.name === c.target)?.goals;
    for (const [name, , goalKey] of RATIOS) {
      const limit = goals?.[goalKey];
      const verdict = c[`${name}Verdict`];
      if (limit === undefined || verdict === null) continue;
      const rounds =
        name === 'cpuPerMessage'
          ? c.cpuPerMessageRounds
          : roundRatios(result, c.target, c.baseline, METRICS[name]);
      out.push({
        goal: `${c.target} ${GOAL_WORDS[name](limit)} ${c.baseline}`,
        measured: ratioText(c[`${name}Ratio`], rounds),
        ...verdict,
      });
    }
  }
  const evidence = <M>(list: M[], value: (m: M) => number, what: string): Evidence => ({
    what: `stage6 ${what}`,
    values: list.map(value),
    rounds: result.options.rounds,
  });
  if (result.logins.length > 0) {
    const ratios = result.logins.map((m) => m.ratio);
    const median = summarize(ratios).median;
    out.push({
      goal: 'stage6 logins/s against workers / t_hash (no target: reported)',
      measured: ratioText(median, ratios),
      ...judge(median, null, [
        evidence(result.logins, (m) => m.loginsPerSecond, 'logins/s'),
        evidence(result.logins, (m) => m.hashMs, 't_hash ms'),
      ]),
    });
  }
  if (result.bursts.length > 0) {
    const ratios = result.bursts.map((m) => m.p99Ratio);
    out.push({
      goal: `stage6 chat p99 during ${result.options.burst} logins ≤ ${MAX_BURST_P99_RATIO}× without`,
      measured: ratioText(summarize(ratios).median, ratios),
      ...burstVerdict(result),
    });
  }
  const scale = compareScale(result);
  const users = format(result.options.scale, 0);
  const stage6 = result.scale.filter((m) => m.target === 'stage6');
  if (scale.heldAll !== null) {
    const least = Math.min(...stage6.map((m) => m.opened));
    const dropped = stage6.some((m) => m.disconnected > 0) ? ', some dropped' : '';
    out.push({
      goal: `stage6 holds ${users} logged-in users at once`,
      measured: `${format(least, 0)} connected and logged in${dropped}`,
      outcome: scale.heldAll ? 'met' : 'not met',
    });
  }
  if (scale.memoryVerdict !== null) {
    const ratios = stage6
      .map((m) => {
        const raw = result.scale.find((r) => r.target === 'raw' && r.round === m.round);
        return raw ? m.rssPerConnectionKiB / raw.rssPerConnectionKiB : NaN;
      })
      .filter(Number.isFinite);
    out.push({
      goal: `stage6 memory per connection with ${users} idle ≤ ${MAX_SCALE_MEMORY_RATIO}× raw`,
      measured: ratioText(scale.memoryRatio, ratios),
      ...scale.memoryVerdict,
    });
  }
  if (scale.p99Verdict !== null) {
    const raw = Number.isFinite(scale.rawP99Ratio)
      ? ` (raw: ${format(scale.rawP99Ratio, 2)}×)`
      : '';
    out.push({
      goal: `stage6 chat p99 with ${users} idle ≤ ${MAX_SCALE_P99_RATIO}× without`,
      measured:
        ratioText(
          scale.p99Ratio,
          stage6.map((m) => m.p99Ratio),
        ) + raw,
      ...scale.p99Verdict,
    });
  }
  const cluster = clusterVerdict(result);
  if (cluster !== null) out.push(cluster);
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
  const cpu = (m: ClusterMeasurement) => m.serverCpuUsPerMessage;
  const three = { nodes: 3, redis: true };
  const alone = { nodes: 1, redis: false };
  const ratio =
    clusterSummary(result, three, cpu).median / clusterSummary(result, alone, cpu).median;
  const evidence = (layout: ClusterLayout): Evidence => ({
    what: `stage9 ${layoutName(layout)} server CPU µs per delivered message`,
    values: result.cluster.filter((m) => sameLayout(m, layout)).map(cpu),
    rounds: result.options.rounds,
  });
  return {
    goal,
    measured: `${format(ratio, 2)}×`,
    ...judge(ratio, null, [evidence(three), evidence(alone)]),
  };
}

/** `1.39×`, or `1.39× (rounds 1.20–1.52×)` when there were several rounds. */
function ratioText(ratio: number, rounds: number[]): string {
  const text = `${format(ratio, 2)}×`;
  if (rounds.length < 2) return text;
  const s = summarize(rounds);
  return `${text} (rounds ${format(s.min, 2)}–${format(s.max, 2)}×)`;
}
