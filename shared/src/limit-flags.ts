/**
 * The command-line flags for an authenticated server's abuse limits (stages
 * 6 to 9), and what they set.
 *
 * Introduced by stage 6.
 *
 * Every limit has a default that suits one server on one machine (see the
 * option table in stage 6's README); the flags exist for an operator with
 * other numbers, and for test harnesses that must lift a limit their purpose
 * needs lifted (the soak registers hundreds of users from one address).
 *
 * One copy for every stage, so an operator's command line carries over from
 * stage to stage: the names, the meanings and the parsing are the same. What
 * differs is said by the caller: whether the server speaks TLS (which
 * changes what two of the flags count) and the error budget's refill, which
 * belongs to the stage's server. Each flag turns into one `startServer`
 * option; an absent flag leaves the server's default.
 *
 * @module
 */
import { parsePositiveInt } from './cli';
import { DEFAULT_NEW_CONNECTIONS_PER_ADDRESS } from './connection-caps';
import { DEFAULT_MESSAGE_BUDGET } from './message-budget';
import { DEFAULT_LOGIN_LIMITS, type BucketLimit, type LoginRateLimitOptions } from './rate-limit';

/** The name of a limit flag (without its `--`). */
export type LimitFlag =
  | 'max-connections'
  | 'max-prelogin-per-ip'
  | 'hash-jobs-per-ip'
  | 'registrations-per-ip'
  | 'registrations-per-minute'
  | 'failed-logins-per-ip'
  | 'error-budget'
  | 'message-budget'
  | 'connections-per-ip';

/** A flag that takes a value, in `node:util` parseArgs form. */
export interface StringFlag {
  /** Always `'string'`: the flag is followed by its value. */
  readonly type: 'string';
}

const VALUE: StringFlag = { type: 'string' };

/** The flags of every stage, in `node:util` parseArgs form (each takes a number). */
export const limitFlags: Readonly<Record<Exclude<LimitFlag, 'connections-per-ip'>, StringFlag>> = {
  'max-connections': VALUE,
  'max-prelogin-per-ip': VALUE,
  'hash-jobs-per-ip': VALUE,
  'registrations-per-ip': VALUE,
  'registrations-per-minute': VALUE,
  'failed-logins-per-ip': VALUE,
  'error-budget': VALUE,
  'message-budget': VALUE,
};

/**
 * The flags of a TLS server (stage 7 on): every stage's, and the pace of new
 * connections per address, which matters once each one costs a handshake.
 */
export const tlsLimitFlags: Readonly<Record<LimitFlag, StringFlag>> = {
  ...limitFlags,
  'connections-per-ip': VALUE,
};

/** What a stage's server does that changes the usage text. */
export interface LimitsUsageOptions {
  /**
   * The server speaks TLS (stage 7 on): a connection counts from its TCP
   * accept, before the handshake, and a refused login ticket costs a failed
   * login's token.
   */
  readonly tls: boolean;
}

/**
 * The flags' lines for a server's usage text.
 *
 * @param options - what the stage's server does that the text must say
 * @returns the lines, with a heading, ready to append to the usage
 */
export function limitsUsage(options: LimitsUsageOptions): string {
  const connections = options.tls
    ? `  --max-connections N           sockets held at once, counted before the TLS
                                handshake (default: from the open-file limit)`
    : `  --max-connections N           sockets held at once (default: from the open-file limit)`;
  const failures = options.tls ? 'failed logins or tickets' : 'failed logins';
  const pace = options.tls
    ? `
  --connections-per-ip N        new connections per address in a burst, then 20
                                a second; faster ones are dropped (default 64)`
    : '';
  return `limits (IPv6 addresses count per /64):
${connections}
  --max-prelogin-per-ip N       connections not yet logged in, per address (default 32)${pace}
  --hash-jobs-per-ip N          passwords being checked at once, per address (default 8)
  --registrations-per-ip N      new accounts per address per hour (default 10)
  --registrations-per-minute N  new accounts per minute, all addresses (default 30)
  --failed-logins-per-ip N      ${failures} in a burst per address, then one more
                                every 3 s (default 20); also the most attempts
                                one address may have in flight
  --error-budget N              bad frames a logged-in client may send at once,
                                then one more every 6 s (default 10)
  --message-budget N            frames a logged-in client may send at once, then
                                5 a second; faster ones wait (default 20)`;
}

/**
 * The server options the limit flags set: the same names and types as the
 * stages' `ServerOptions`, so the result spreads into `startServer`'s
 * options.
 */
export interface LimitOptions {
  /** `--max-connections`: sockets held at once. */
  maxConnections?: number;
  /** `--max-prelogin-per-ip`: connections not yet logged in, per address. */
  maxPreLoginPerAddress?: number;
  /** `--connections-per-ip` (TLS servers): new connections per address, a burst then a pace. */
  newConnectionsPerAddress?: BucketLimit;
  /** `--hash-jobs-per-ip`: password checks at once, per address. */
  hashJobsPerAddress?: number;
  /** `--error-budget`: error replies a logged-in connection may cause at once. */
  errorBudget?: BucketLimit;
  /** `--message-budget`: frames a logged-in connection may send at once (see message-budget.ts). */
  messageBudget?: BucketLimit;
  /** The login and registration buckets the flags size; the rest keep their defaults. */
  rateLimits?: Pick<LoginRateLimitOptions, 'perIp' | 'registrationsPerIp' | 'registrations'>;
}

/** The defaults a flag changes only part of (its capacity, not its refill). */
export interface LimitDefaults {
  /** The stage's error budget: `--error-budget` sets its capacity and keeps its refill. */
  readonly errorBudget: BucketLimit;
}

/**
 * Reads the limit flags.
 *
 * @param values - parsed flags (strings, or undefined when absent)
 * @param defaults - the stage's defaults a flag keeps part of
 * @returns the server options they set (only those given)
 * @throws ChatError `BAD_ARGUMENT` for a value that is not a whole number > 0
 */
export function parseLimitFlags(
  values: Partial<Record<LimitFlag, string | boolean | undefined>>,
  defaults: LimitDefaults,
): LimitOptions {
  const n = (flag: LimitFlag) => {
    const value = values[flag];
    return parsePositiveInt(`--${flag}`, typeof value === 'string' ? value : undefined);
  };
  const options: LimitOptions = {};
  const maxConnections = n('max-connections');
  if (maxConnections !== undefined) options.maxConnections = maxConnections;
  const preLogin = n('max-prelogin-per-ip');
  if (preLogin !== undefined) options.maxPreLoginPerAddress = preLogin;
  const pace = n('connections-per-ip');
  if (pace !== undefined) {
    options.newConnectionsPerAddress = {
      capacity: pace,
      refillMs: DEFAULT_NEW_CONNECTIONS_PER_ADDRESS.refillMs,
    };
  }
  const hashJobs = n('hash-jobs-per-ip');
  if (hashJobs !== undefined) options.hashJobsPerAddress = hashJobs;
  const errors = n('error-budget');
  if (errors !== undefined) {
    options.errorBudget = { capacity: errors, refillMs: defaults.errorBudget.refillMs };
  }
  const messages = n('message-budget');
  if (messages !== undefined) {
    options.messageBudget = { capacity: messages, refillMs: DEFAULT_MESSAGE_BUDGET.refillMs };
  }
  const failures = n('failed-logins-per-ip');
  const perIpHour = n('registrations-per-ip');
  const perMinute = n('registrations-per-minute');
  const rateLimits: NonNullable<LimitOptions['rateLimits']> = {
    ...(failures === undefined
      ? {}
      : { perIp: { capacity: failures, refillMs: DEFAULT_LOGIN_LIMITS.perIp.refillMs } }),
    ...(perIpHour === undefined ? {} : { registrationsPerIp: per(perIpHour, 3_600_000) }),
    ...(perMinute === undefined ? {} : { registrations: per(perMinute, 60_000) }),
  };
  if (Object.keys(rateLimits).length > 0) options.rateLimits = rateLimits;
  return options;
}

// N per period: a burst of N, refilling at N per period.
function per(count: number, periodMs: number): BucketLimit {
  return { capacity: count, refillMs: periodMs / count };
}
