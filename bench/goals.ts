/**
 * Every goal a run could judge, with what was measured and a plain verdict:
 * the one list both the printed report and docs/benchmarks.md end with.
 *
 * Each goal is a ratio measured in the same run (see bench/README.md): a
 * stage against its fair baseline, or one server against itself under two
 * conditions. A goal whose measurements did not run (a `--only` or
 * `--scenario` left them out) is simply not listed; one whose measurements
 * cannot be true (negative, zero, missing rounds) is "inconclusive", with the
 * reason, never "met" (see verdict.ts).
 *
 * @module
 */
import type { BenchResult, RoundMeasurement } from './bench';
import { MAX_BURST_P99_RATIO } from './login-bench';
import { clusterVerdict } from './cluster-report';
import { compare } from './comparisons';
import { format } from './report-format';
import { compareScale } from './scale-report';
import { MAX_SCALE_MEMORY_RATIO, MAX_SCALE_P99_RATIO } from './scale-bench';
import { summarize } from './stats';
import { judge, judgementText, type Evidence, type Judgement } from './verdict';

/** One goal's outcome. */
export interface Verdict extends Judgement {
  /** The goal, in words, e.g. `stage 4 throughput ≥ 0.9× raw`. */
  goal: string;
  /** What was measured: the ratio of medians, and the rounds' range when there were several. */
  measured: string;
}

/**
 * Judges every goal the run measured.
 *
 * @param result - a finished run
 */
export function verdicts(result: BenchResult): Verdict[] {
  const out: Verdict[] = [];
  for (const c of compare(result)) {
    if (!c.judged) continue;
    const target = result.targets.find((t) => t.name === c.target);
    const goals = target?.goals;
    if (goals?.minThroughputRatio !== undefined && c.throughputVerdict !== null) {
      out.push({
        goal: `${c.target} throughput ≥ ${goals.minThroughputRatio}× ${c.baseline}`,
        measured: ratioText(c.throughputRatio, roundRatios(result, c.target, c.baseline, fanout)),
        ...c.throughputVerdict,
      });
    }
    if (goals?.maxMemoryRatio !== undefined && c.memoryVerdict !== null) {
      out.push({
        goal: `${c.target} memory per idle connection ≤ ${goals.maxMemoryRatio}× ${c.baseline}`,
        measured: ratioText(c.memoryRatio, roundRatios(result, c.target, c.baseline, memory)),
        ...c.memoryVerdict,
      });
    }
    if (goals?.maxCpuPerMessageRatio !== undefined && c.cpuPerMessageVerdict !== null) {
      out.push({
        goal: `${c.target} server CPU per delivered message ≤ ${goals.maxCpuPerMessageRatio}× ${c.baseline}`,
        measured: ratioText(c.cpuPerMessageRatio, c.cpuPerMessageRounds),
        ...c.cpuPerMessageVerdict,
      });
    }
  }
  const rounds = result.options.rounds;
  const evidence = <M>(list: M[], value: (m: M) => number, what: string): Evidence => ({
    what: `stage6 ${what}`,
    values: list.map(value),
    rounds,
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
    const median = summarize(ratios).median;
    out.push({
      goal: `stage6 chat p99 during ${result.options.burst} logins ≤ ${MAX_BURST_P99_RATIO}× without`,
      measured: ratioText(median, ratios),
      ...burstVerdict(result),
    });
  }
  const scale = compareScale(result);
  const users = format(result.options.scale, 0);
  if (scale.heldAll !== null) {
    const stage6 = result.scale.filter((m) => m.target === 'stage6');
    const least = Math.min(...stage6.map((m) => m.opened));
    out.push({
      goal: `stage6 holds ${users} logged-in users at once`,
      measured: `${format(least, 0)} connected and logged in${
        stage6.some((m) => m.disconnected > 0) ? ', some dropped' : ''
      }`,
      outcome: scale.heldAll ? 'met' : 'not met',
    });
  }
  if (scale.memoryVerdict !== null) {
    const ratios = perRound(
      result,
      (stage6, raw) => stage6.rssPerConnectionKiB / raw.rssPerConnectionKiB,
    );
    out.push({
      goal: `stage6 memory per connection with ${users} idle ≤ ${MAX_SCALE_MEMORY_RATIO}× raw`,
      measured: ratioText(scale.memoryRatio, ratios),
      ...scale.memoryVerdict,
    });
  }
  if (scale.p99Verdict !== null) {
    const ratios = result.scale.filter((m) => m.target === 'stage6').map((m) => m.p99Ratio);
    const raw = Number.isFinite(scale.rawP99Ratio)
      ? ` (raw: ${format(scale.rawP99Ratio, 2)}×)`
      : '';
    out.push({
      goal: `stage6 chat p99 with ${users} idle ≤ ${MAX_SCALE_P99_RATIO}× without`,
      measured: ratioText(scale.p99Ratio, ratios) + raw,
      ...scale.p99Verdict,
    });
  }
  const cluster = clusterVerdict(result);
  if (cluster !== null) out.push(cluster);
  return out;
}

/**
 * The burst goal's judgement: the median over rounds of p99 during the burst
 * divided by p99 without it, from latencies that must all be positive.
 *
 * @param result - a finished run with burst rounds
 */
export function burstVerdict(result: BenchResult): Judgement {
  const bursts = result.bursts;
  const evidence = (value: (m: (typeof bursts)[number]) => number, what: string): Evidence => ({
    what: `stage6 ${what}`,
    values: bursts.map(value),
    rounds: result.options.rounds,
  });
  return judge(summarize(bursts.map((m) => m.p99Ratio)).median, { atMost: MAX_BURST_P99_RATIO }, [
    evidence((m) => m.quiet.p99Ms, 'chat p99 ms without logins'),
    evidence((m) => m.burst.p99Ms, 'chat p99 ms during the logins'),
  ]);
}

/**
 * A verdict in words, for the goals table: `met`, `not met`, `reported`, or
 * `inconclusive: REASON`.
 *
 * @param v - the verdict
 */
export function verdictText(v: Judgement): string {
  return judgementText(v);
}

type Metric = (m: RoundMeasurement) => number;
const fanout: Metric = (m) => m.fanout?.deliveredPerSecond ?? NaN;
const memory: Metric = (m) => m.idle?.rssPerConnectionKiB ?? NaN;

/** The ratio target / baseline within each round (both measured in that round). */
function roundRatios(result: BenchResult, target: string, baseline: string, metric: Metric) {
  const ratios: number[] = [];
  for (const m of result.rounds.filter((r) => r.target === target)) {
    const base = result.rounds.find((r) => r.target === baseline && r.round === m.round);
    if (base) ratios.push(metric(m) / metric(base));
  }
  return ratios.filter(Number.isFinite);
}

/** The scale scenario's stage 6 / raw ratio within each round. */
function perRound(
  result: BenchResult,
  ratio: (stage6: BenchResult['scale'][number], raw: BenchResult['scale'][number]) => number,
): number[] {
  const ratios: number[] = [];
  for (const m of result.scale.filter((r) => r.target === 'stage6')) {
    const raw = result.scale.find((r) => r.target === 'raw' && r.round === m.round);
    if (raw) ratios.push(ratio(m, raw));
  }
  return ratios.filter(Number.isFinite);
}

/** `1.39×`, or `1.39× (rounds 1.20–1.52×)` when the rounds differ. */
function ratioText(ratio: number, rounds: number[]): string {
  const text = `${format(ratio, 2)}×`;
  if (rounds.length < 2) return text;
  const s = summarize(rounds);
  return `${text} (rounds ${format(s.min, 2)}–${format(s.max, 2)}×)`;
}
