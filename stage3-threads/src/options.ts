/**
 * Parsing stage 3's own command-line options (`--mode`, `--workers`,
 * `--cost`, …) into checked values. Both entry files use it, so a typo gives
 * the same clear `BAD_ARGUMENT` error everywhere.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import type { HashMode } from './hasher';

/**
 * Parses `--mode`.
 *
 * @param text - the option's value, or undefined when absent
 * @param fallback - the mode to use when the option is absent
 * @throws ChatError `BAD_ARGUMENT` unless it is `blocking` or `pool`
 */
export function parseMode(text: string | undefined, fallback: HashMode): HashMode {
  if (text === undefined) return fallback;
  if (text === 'blocking' || text === 'pool') return text;
  throw new ChatError('BAD_ARGUMENT', `--mode must be "blocking" or "pool", not "${text}"`);
}

/**
 * Parses a whole-number option and checks its range.
 *
 * @param name - the option's name, for the error message
 * @param text - the option's value, or undefined when absent
 * @param range - the default, and the smallest and largest accepted values
 * @throws ChatError `BAD_ARGUMENT` for anything but an integer in range
 * @example
 * ```ts
 * parseIntOption('cost', '12', { fallback: 10, min: 4, max: 15 }); //=> 12
 * parseIntOption('cost', undefined, { fallback: 10, min: 4, max: 15 }); //=> 10
 * ```
 */
export function parseIntOption(
  name: string,
  text: string | undefined,
  range: { fallback: number; min: number; max: number },
): number {
  if (text === undefined) return range.fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < range.min || value > range.max) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `--${name} must be a whole number from ${range.min} to ${range.max}, not "${text}"`,
    );
  }
  return value;
}

/** bcrypt costs accepted on the command line. */
export const COST_RANGE = {
  /** bcrypt's own minimum. */
  min: 4,
  /** Each step doubles the work; at 15 one hash already takes seconds. */
  max: 15,
} as const;
