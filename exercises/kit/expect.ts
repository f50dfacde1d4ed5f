/**
 * Assertions whose message reads well on one line under a ✗: what was
 * checked, what came, what was expected.
 *
 * @module
 */

/**
 * Throws unless `actual` is exactly `expected`.
 *
 * @param actual - what the code under test produced
 * @param expected - what the exercise asks for
 * @param what - what is being compared, e.g. `the answer to "/who"`
 */
export function expectSame<T>(actual: T, expected: T, what: string): void {
  if (actual === expected) return;
  throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/**
 * Throws unless `line` matches `pattern`.
 *
 * @param line - a line the code under test sent
 * @param pattern - its expected shape
 * @param what - what the line is, e.g. `the reply to "fib 10"`
 */
export function expectMatch(line: string, pattern: RegExp, what: string): void {
  if (pattern.test(line)) return;
  throw new Error(`${what}: got ${JSON.stringify(line)}, expected a line matching ${pattern}`);
}
