/**
 * Text helpers shared by the report's sections: numbers with thousands
 * separators, "median (min–max)" cells, and Markdown tables that also read
 * well in a terminal.
 *
 * @module
 */
import { summarize } from './stats';

/** A number with `digits` decimals and thousands separators, `-` when it is not finite. */
export function format(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * A ratio as the report prints it: two decimals, or as many more (up to
 * six) as it takes not to print it equal to the limit it was judged
 * against, so that a 1.0004× is not shown as "1.00×" beside "not met"
 * against "≤ 1×".
 *
 * @param ratio - the ratio
 * @param limit - the goal's limit, when there is one
 */
export function formatRatio(ratio: number, limit?: number): string {
  let digits = 2;
  while (limit !== undefined && digits < 6 && format(ratio, digits) === format(limit, digits)) {
    digits++;
  }
  return format(ratio, digits);
}

/**
 * A table cell: the median of one number's values over the rounds, and their
 * min–max range when the run had several rounds.
 */
export function cell(values: readonly number[], digits: number, rounds: number): string {
  const s = summarize(values);
  const median = format(s.median, digits);
  if (rounds < 2 || !Number.isFinite(s.median)) return median;
  return `${median} (${format(s.min, digits)}–${format(s.max, digits)})`;
}

/**
 * A Markdown table, header row first, laid out exactly as Prettier lays out
 * Markdown tables (columns at least 3 wide, `| --- |` under the header), so
 * that the generated docs/benchmarks.md passes `prettier --check` as written.
 */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(3, ...rows.map((r) => r[col]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}
