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
import type { BucketLimit } from '../../shared/src/rate-limit';
import { DEFAULT_ERROR_BUDGET, type ServerOptions } from './server';

/** The flags, in `node:util` parseArgs form. */
export const limitFlags = {
  'max-connections': { type: 'string' },
  'max-prelogin-per-ip': { type: 'string' },
  'hash-jobs-per-ip': { type: 'string' },
  'registrations-per-ip': { type: 'string' },
  'registrations-per-minute': { type: 'string' },
  'error-budget': { type: 'string' },
} as const;

/** The flags' lines for the usage text. */
export const LIMITS_USAGE = `limits (IPv6 addresses count per /64):
  --max-connections N           sockets held at once (default: from the open-file limit)
  --max-prelogin-per-ip N       connections not yet logged in, per address (default 32)
  --hash-jobs-per-ip N          passwords being checked at once, per address (default 8)
  --registrations-per-ip N      new accounts per address per hour (default 10)
  --registrations-per-minute N  new accounts per minute, all addresses (default 30)
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
  values: Partial<Record<keyof typeof limitFlags, string | undefined>>,
): Partial<ServerOptions> {
  const n = (flag: keyof typeof limitFlags) => parsePositiveInt(`--${flag}`, values[flag]);
  const perIpHour = n('registrations-per-ip');
  const perMinute = n('registrations-per-minute');
  const errors = n('error-budget');
  const rateLimits = {
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
