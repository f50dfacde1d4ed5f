/**
 * What a fuzz campaign is made of: named targets, each one property that runs
 * at two sizes (a fixed-seed slice in `npm test`, a large campaign in
 * `npm run test:fuzz`), and a uniform outcome the runner and jest both read.
 */
import fc from 'fast-check';

/** How to run a target once: fast-check's seed, how many cases, and an optional replay path. */
export interface RunOptions {
  /** fast-check's seed (a 32-bit integer): the same seed generates the same cases. */
  seed: number;
  /** How many generated cases to check. */
  numRuns: number;
  /** fast-check's counterexample path, to replay one failing case and its shrinking. */
  path?: string;
}

/** The result of one run of one target. */
export interface Outcome {
  /** True if a case failed (the property threw or returned false). */
  failed: boolean;
  /** Cases actually run (fewer than asked only when a case failed). */
  numRuns: number;
  /** fast-check's report: the seed, the path and the shrunk counterexample. */
  report?: string;
  /** fast-check's path to the shrunk counterexample: with the seed, it replays just that case. */
  path?: string;
  /** Extra numbers worth printing (e.g. frames sent by the network fuzz). */
  stats?: Record<string, number>;
}

/** A target that has been set up (e.g. its server started) and can be run. */
export interface Campaign {
  /** Runs the property with these options. */
  check(options: RunOptions): Promise<Outcome>;
  /** Releases what `prepare` started (servers, sockets). */
  close(): Promise<void>;
}

/** Which size a target runs at: the CI slice or the full campaign. */
export type Scale = 'ci' | 'full';

/** One fuzzed thing: a name for `--only`, the sizes, and how to set it up. */
export interface FuzzTarget {
  /** Short name, e.g. `framing.model`; `--only` matches a prefix of it. */
  name: string;
  /** What is fuzzed and against what oracle, in one line. */
  about: string;
  /** Cases in the full campaign (`npm run test:fuzz`). */
  fullRuns: number;
  /** Cases in the CI slice (`npm test`): small, so the slice stays fast. */
  ciRuns: number;
  /**
   * Builds the property (and starts anything it needs).
   *
   * @param scale - `ci` for the slice in `npm test` (targets with sockets use fewer), `full` otherwise
   */
  prepare(scale: Scale): Promise<Campaign>;
}

/**
 * Runs a fast-check property (sync or async) and turns fast-check's details
 * into an {@link Outcome}. `endOnFailure` is off so a failure is shrunk to a
 * small counterexample before it is reported.
 *
 * @param property - the property to check
 * @param options - seed, size, optional replay path
 * @param extra - more fast-check parameters (e.g. a per-case timeout for network properties)
 */
export async function checkProperty<Ts>(
  property: fc.IRawProperty<Ts>,
  options: RunOptions,
  extra: fc.Parameters<Ts> = {},
): Promise<Outcome> {
  const details = await fc.check(property, {
    ...extra,
    seed: options.seed,
    numRuns: options.numRuns,
    path: options.path,
    includeErrorInReport: true,
  });
  return {
    failed: details.failed,
    numRuns: details.numRuns,
    report: details.failed ? fc.defaultReportMessage(details) : undefined,
    path: details.counterexamplePath ?? undefined,
  };
}

/** A campaign for a pure property: nothing to start, nothing to close. */
export function pureCampaign<Ts>(property: () => fc.IRawProperty<Ts>): Promise<Campaign> {
  const built = property();
  return Promise.resolve({
    check: (options) => checkProperty(built, options),
    close: () => Promise.resolve(),
  });
}
