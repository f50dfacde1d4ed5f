/**
 * The CI slice of the fuzz campaign: every target, run by jest with a fixed
 * seed and its small `ciRuns` size, so `npm test` exercises the same
 * properties as `npm run test:fuzz` in a few seconds.
 *
 * `FUZZ_SEED` and `FUZZ_RUNS` override the seed and the size, e.g. to replay
 * a failure the full campaign found: `FUZZ_SEED=123 FUZZ_RUNS=5000 npx jest fuzz/`.
 */
import type { FuzzTarget } from '../campaign';

/** The slice's seed: fixed, so CI runs the same cases every time. */
export const SLICE_SEED =
  process.env.FUZZ_SEED === undefined ? 20_261_125 : Number(process.env.FUZZ_SEED);
const runsOverride =
  process.env.FUZZ_RUNS === undefined ? undefined : Number(process.env.FUZZ_RUNS);

/**
 * Runs one target at CI size and fails with fast-check's report (seed, path,
 * shrunk counterexample) if a case fails.
 *
 * @param target - the target to run
 */
export async function runSlice(target: FuzzTarget): Promise<void> {
  const numRuns = runsOverride ?? target.ciRuns;
  const campaign = await target.prepare('ci');
  try {
    const outcome = await campaign.check({ seed: SLICE_SEED, numRuns });
    if (outcome.failed) throw new Error(outcome.report);
    // A slice that silently ran nothing could not fail.
    expect(outcome.numRuns).toBe(numRuns);
  } finally {
    await campaign.close();
  }
}
