/**
 * The soak's verdicts: one named check per property, with the numbers behind
 * it, printed as one table at the end.
 *
 * @module
 */

/** One property the soak checked. */
export interface Check {
  /** Which server: `stage4` or `stage6`. */
  stage: string;
  /** The property, e.g. `delivery`; a failed run names the ones that failed. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** The numbers behind the verdict, one line. */
  detail: string;
}

/** Collects checks for one stage. */
export class CheckList {
  /** The checks so far, in order. */
  readonly checks: Check[] = [];

  /** @param stage - the stage every check here belongs to */
  constructor(private readonly stage: string) {}

  /**
   * Records a check.
   *
   * @param name - the property
   * @param ok - whether it held
   * @param detail - the numbers behind it
   */
  add(name: string, ok: boolean, detail: string): void {
    this.checks.push({ stage: this.stage, name, ok, detail });
  }
}

/**
 * Formats the checks as a table: stage, check, PASS/FAIL, detail.
 *
 * @param checks - every check of the run
 */
export function formatChecks(checks: readonly Check[]): string {
  const rows = checks.map((c) => [c.stage, c.name, c.ok ? 'PASS' : 'FAIL', c.detail]);
  const header = ['stage', 'check', 'result', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(Math.min(w, 60)))),
    ...rows.map(line),
  ].join('\n');
}
