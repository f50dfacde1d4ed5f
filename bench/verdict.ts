/**
 * Judging one goal: met, not met, or inconclusive, never a verdict on a
 * number that cannot be true.
 *
 * Every goal is a ratio of medians, and every median comes from measurements
 * that must be positive: messages per second, KiB of memory per connection,
 * milliseconds of latency. On a busy machine a measurement can come out
 * impossible. The memory of 30 idle connections is a difference of two RSS
 * readings, and a garbage collection between them makes it negative; a round
 * can end with no samples, or not end at all. A ratio of such numbers is
 * still a number (-23.05× is "≤ 2.5×"), so each goal hands its inputs to
 * {@link judge}, which says **inconclusive**, and why, before it compares
 * anything.
 *
 * @module
 */
import { format } from './report-format';

/** A goal's outcome. `reported` is a number with no target. */
export type Outcome = 'met' | 'not met' | 'inconclusive' | 'reported';

/** A goal's outcome and, when inconclusive, the reason. */
export interface Judgement {
  /** The outcome. */
  outcome: Outcome;
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

/** The target a ratio is held to. */
export interface Goal {
  /** The ratio must be at most this. */
  atMost?: number;
  /** The ratio must be at least this. */
  atLeast?: number;
}

/**
 * Why these measurements cannot be judged, or undefined if they can: no
 * rounds, fewer rounds than asked for, a value that is not a number, or a
 * value that is zero or negative (every input of every goal is a positive
 * quantity).
 *
 * @param evidence - the ratio's inputs
 */
export function impossibility(evidence: readonly Evidence[]): string | undefined {
  for (const e of evidence) {
    if (e.values.length === 0) return `no round measured ${e.what}`;
    const finished = e.values.filter((v) => !Number.isNaN(v)).length;
    if (finished < e.rounds) {
      return `only ${finished} of ${e.rounds} rounds measured ${e.what}`;
    }
    const odd = e.values.find((v) => !Number.isFinite(v) || v <= 0);
    if (odd !== undefined) {
      const round = e.values.indexOf(odd) + 1;
      return `${e.what} was ${Number.isFinite(odd) ? format(odd, 2) : String(odd)} in round ${round}, which cannot be true`;
    }
  }
  return undefined;
}

/**
 * Judges a ratio against its goal, after checking that its inputs are possible.
 *
 * @param ratio - the ratio of medians
 * @param goal - the target, or null for a number that is only reported
 * @param evidence - every measurement the ratio was computed from
 *
 * @example
 * ```ts
 * judge(-23.05, { atMost: 2.5 }, [{ what: 'stage6 RSS per connection', values: [-1.2], rounds: 1 }]);
 * //=> { outcome: 'inconclusive', reason: 'stage6 RSS per connection was -1.20 in round 1, which cannot be true' }
 * ```
 */
export function judge(ratio: number, goal: Goal | null, evidence: readonly Evidence[]): Judgement {
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

/**
 * A judgement in words, for the report: `met`, `NOT met` (loud in the
 * terminal), `reported`, or `inconclusive: REASON`.
 *
 * @param j - the judgement
 * @param loud - write "NOT met" in capitals (the printed report's style)
 */
export function judgementText(j: Judgement, loud = false): string {
  if (j.outcome === 'inconclusive') return `inconclusive: ${j.reason ?? 'no reason given'}`;
  if (j.outcome === 'not met' && loud) return 'NOT met';
  return j.outcome;
}
