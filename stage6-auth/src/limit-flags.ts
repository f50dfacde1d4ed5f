/**
 * The command-line flags for the server's abuse limits, and what they set.
 *
 * Every limit has a default that suits one server on one machine (see the
 * option table in the README); the flags exist for an operator with other
 * numbers, and for test harnesses that must lift a limit their purpose
 * needs lifted (the soak registers hundreds of users from one address).
 *
 * @module
 */
import { parsePositiveInt } from '../../shared/src/cli';
import { DEFAULT_LOGIN_LIMITS, type BucketLimit } from '../../shared/src/rate-limit';
import { DEFAULT_ERROR_BUDGET, type ServerOptions } from './server';

/** The name of a limit flag (without its `--`). */
export type LimitFlag =
  | 'max-connections'
  | 'max-prelogin-per-ip'
  | 'hash-jobs-per-ip'
  | 'registrations-per-ip'
  | 'registrations-per-minute'
  | 'failed-logins-per-ip'
  | 'error-budget';

/** A flag that takes a value, in `node:util` parseArgs form. */
export interface StringFlag {
  /** Always `'string'`: the flag is followed by its value. */
  readonly type: 'string';
}

const VALUE: StringFlag = { type: 'string' };

/** The flags, in `node:util` parseArgs form. */
export const limitFlags: Readonly<Record<LimitFlag, StringFlag>> = {
  'max-connections': VALUE,
  'max-prelogin-per-ip': VALUE,
  'hash-jobs-per-ip': VALUE,
  'registrations-per-ip': VALUE,
  'registrations-per-minute': VALUE,
  'failed-logins-per-ip': VALUE,
  'error-budget': VALUE,
};

/** The flags' lines for the usage text. */
export const LIMITS_USAGE = `limits (IPv6 addresses count per /64):
  --max-connections N           sockets held at once (default: from the open-file limit)
  --max-prelogin-per-ip N       connections not yet logged in, per address (default 32)
  --hash-jobs-per-ip N          passwords being checked at once, per address (default 8)
  --registrations-per-ip N      new accounts per address per hour (default 10)
  --registrations-per-minute N  new accounts per minute, all addresses (default 30)
  --failed-logins-per-ip N      failed logins in a burst per address, then one more
                                every 3 s (default 20); also the most attempts
                                one address may have in flight
  --error-budget N              bad frames a logged-in client may send at once,
                                then one more every 6 s (default 10)`;

/**
 * Reads the limit flags.
 *
 * @param values - parsed flags (strings, or undefined when absent)
 * @returns the server options they set (only those given)
 * @throws ChatError `BAD_ARGUMENT` for a value that is not a whole number > 0
 */
export function parseLimitFlags(
  values: Partial<Record<LimitFlag, string | boolean | undefined>>,
): Partial<ServerOptions> {
  const n = (flag: LimitFlag) => {
    const value = values[flag];
    return parsePositiveInt(`--${flag}`, typeof value === 'string' ? value : undefined);
  };
  const perIpHour = n('registrations-per-ip');
  const perMinute = n('registrations-per-minute');
  const errors = n('error-budget');
  const failures = n('failed-logins-per-ip');
  const rateLimits = {
    ...(failures === undefined
      ? {}
      : { perIp: { capacity: failures, refillMs: DEFAULT_LOGIN_LIMITS.perIp.refillMs } }),
    ...(perIpHour === undefined ? {} : { registrationsPerIp: per(perIpHour, 3_600_000) }),
    ...(perMinute === undefined ? {} : { registrations: per(perMinute, 60_000) }),
  };
  return definedOnly({
    maxConnections: n('max-connections'),
    maxPreLoginPerAddress: n('max-prelogin-per-ip'),
    hashJobsPerAddress: n('hash-jobs-per-ip'),
    errorBudget:
      errors === undefined
        ? undefined
        : { capacity: errors, refillMs: DEFAULT_ERROR_BUDGET.refillMs },
    rateLimits: Object.keys(rateLimits).length === 0 ? undefined : rateLimits,
  });
}

// N per period: a burst of N, refilling at N per period.
function per(count: number, periodMs: number): BucketLimit {
  return { capacity: count, refillMs: periodMs / count };
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
