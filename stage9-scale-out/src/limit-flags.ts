/**
 * A stage 9 node's limit flags: stage 7's, which are stage 6's names and
 * meanings, so an operator's command line carries over. On a Redis cluster
 * `--failed-logins-per-ip` sizes the shared bucket: one budget for all
 * nodes. Each flag turns into one `startServer` option; an absent flag
 * leaves the default.
 *
 * @module
 */
import { parsePositiveInt } from '../../shared/src/cli';
import { DEFAULT_LOGIN_LIMITS, type BucketLimit } from '../../shared/src/rate-limit';
import { DEFAULT_ERROR_BUDGET, type ServerOptions } from './server';

/** A limit flag's name. */
export type LimitFlag =
  | 'max-connections'
  | 'max-prelogin-per-ip'
  | 'hash-jobs-per-ip'
  | 'registrations-per-ip'
  | 'registrations-per-minute'
  | 'failed-logins-per-ip'
  | 'error-budget';

/** How `parseArgs` reads a limit flag. */
export interface StringFlag {
  /** Always `'string'`: the flag is followed by its value. */
  readonly type: 'string';
}

const VALUE: StringFlag = { type: 'string' };

/** The `parseArgs` options of the limit flags (each takes a number). */
export const limitFlags: Readonly<Record<LimitFlag, StringFlag>> = {
  'max-connections': VALUE,
  'max-prelogin-per-ip': VALUE,
  'hash-jobs-per-ip': VALUE,
  'registrations-per-ip': VALUE,
  'registrations-per-minute': VALUE,
  'failed-logins-per-ip': VALUE,
  'error-budget': VALUE,
};

/** The flags' lines of the usage text. */
export const LIMITS_USAGE = `limits (as in stage 6; IPv6 addresses count per /64):
  --max-connections N           sockets held at once, counted before the TLS
                                handshake (default: from the open-file limit)
  --max-prelogin-per-ip N       connections not yet logged in, per address (default 32)
  --hash-jobs-per-ip N          passwords being checked at once, per address (default 8)
  --registrations-per-ip N      new accounts per address per hour (default 10)
  --registrations-per-minute N  new accounts per minute, all addresses (default 30)
  --failed-logins-per-ip N      failed logins or tickets in a burst per address, then
                                one more every 3 s (default 20)
  --error-budget N              bad frames a logged-in client may send at once,
                                then one more every 6 s (default 10)`;

/**
 * Turns the limit flags given into server options.
 *
 * @param values - parsed flags (absent ones are undefined)
 * @throws ChatError `BAD_ARGUMENT` for a value that is not a whole number ≥ 1
 */
export function parseLimitFlags(
  values: Partial<Record<LimitFlag, string | boolean | undefined>>,
): Partial<ServerOptions> {
  const n = (flag: LimitFlag) => {
    const value = values[flag];
    return parsePositiveInt(`--${flag}`, typeof value === 'string' ? value : undefined);
  };
  const options: Partial<ServerOptions> = {};
  const failures = n('failed-logins-per-ip');
  const perIpHour = n('registrations-per-ip');
  const perMinute = n('registrations-per-minute');
  const rateLimits = {
    ...(failures === undefined
      ? {}
      : { perIp: { capacity: failures, refillMs: DEFAULT_LOGIN_LIMITS.perIp.refillMs } }),
    ...(perIpHour === undefined ? {} : { registrationsPerIp: per(perIpHour, 3_600_000) }),
    ...(perMinute === undefined ? {} : { registrations: per(perMinute, 60_000) }),
  };
  if (Object.keys(rateLimits).length > 0) options.rateLimits = rateLimits;
  const errors = n('error-budget');
  if (errors !== undefined) {
    options.errorBudget = { capacity: errors, refillMs: DEFAULT_ERROR_BUDGET.refillMs };
  }
  const maxConnections = n('max-connections');
  if (maxConnections !== undefined) options.maxConnections = maxConnections;
  const preLogin = n('max-prelogin-per-ip');
  if (preLogin !== undefined) options.maxPreLoginPerAddress = preLogin;
  const hashJobs = n('hash-jobs-per-ip');
  if (hashJobs !== undefined) options.hashJobsPerAddress = hashJobs;
  return options;
}

// N per period: a burst of N, refilling at N per period.
function per(count: number, periodMs: number): BucketLimit {
  return { capacity: count, refillMs: periodMs / count };
}
