/**
 * Counters and problems, gathered while the load runs and read by the checks.
 *
 * A *count* is something that happened and is fine (a refused login, an error
 * frame that came back as expected); a *problem* is something that must not
 * happen (an unexpected frame, a box that failed to open). Problems are grouped
 * by kind, and the first few of each are kept as examples for the report.
 *
 * @module
 */

/** Named counters and named problems. */
export class Tally {
  /** Counter name → value. */
  readonly counts = new Map<string, number>();
  /** Problem kind → how many. */
  readonly problems = new Map<string, number>();
  /** The first few problems, for the report. */
  readonly examples: string[] = [];

  /**
   * Adds to a counter.
   *
   * @param name - the counter
   * @param by - how much (default 1)
   */
  count(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  /**
   * A counter's value (0 if never counted).
   *
   * @param name - the counter
   */
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /**
   * Records a problem.
   *
   * @param kind - what went wrong, e.g. `unexpected error frame`
   * @param example - the specific case, e.g. who got which frame
   */
  problem(kind: string, example: string): void {
    this.problems.set(kind, (this.problems.get(kind) ?? 0) + 1);
    if (this.examples.length < 8) this.examples.push(`${kind}: ${example}`);
  }

  /**
   * The problems whose kind starts with one of `prefixes`, as one line
   * (`''` if none), for the check that owns them.
   *
   * @param prefixes - kinds (or their beginnings) that belong to one check
   */
  problemsLike(...prefixes: string[]): string {
    const parts: string[] = [];
    for (const [kind, n] of this.problems) {
      if (prefixes.some((p) => kind.startsWith(p))) parts.push(`${n}× ${kind}`);
    }
    return parts.join('; ');
  }
}
