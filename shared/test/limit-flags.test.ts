// The limit flags of stages 6 to 9: one copy, the same names and meanings in
// every stage, each flag turning into one server option.
import { limitFlags, limitsUsage, parseLimitFlags, tlsLimitFlags } from '../src/limit-flags';

const defaults = { errorBudget: { capacity: 10, refillMs: 6_000 } };

test('each limit flag sets its server option; absent flags set nothing', () => {
  expect(parseLimitFlags({}, defaults)).toEqual({});
  expect(
    parseLimitFlags(
      {
        'max-connections': '500',
        'max-prelogin-per-ip': '4',
        'hash-jobs-per-ip': '2',
        'registrations-per-ip': '6',
        'registrations-per-minute': '120',
        'error-budget': '3',
        'message-budget': '40',
        'failed-logins-per-ip': '50',
        'connections-per-ip': '200',
      },
      defaults,
    ),
  ).toEqual({
    maxConnections: 500,
    maxPreLoginPerAddress: 4,
    // The burst only: the pace stays 20 a second.
    newConnectionsPerAddress: { capacity: 200, refillMs: 50 },
    hashJobsPerAddress: 2,
    errorBudget: { capacity: 3, refillMs: 6_000 },
    // The burst only: the pace stays 5 a second.
    messageBudget: { capacity: 40, refillMs: 200 },
    // 6 an hour: a burst of 6, one more every 10 minutes; 120 a minute: one every 0.5 s.
    rateLimits: {
      perIp: { capacity: 50, refillMs: 3_000 },
      registrationsPerIp: { capacity: 6, refillMs: 600_000 },
      registrations: { capacity: 120, refillMs: 500 },
    },
  });
});

test('--error-budget sets the capacity and keeps the stage default refill', () => {
  const limits = parseLimitFlags(
    { 'error-budget': '4' },
    { errorBudget: { capacity: 10, refillMs: 1_234 } },
  );
  expect(limits).toEqual({ errorBudget: { capacity: 4, refillMs: 1_234 } });
});

test('one login flag sizes its bucket only; the others keep their defaults', () => {
  expect(parseLimitFlags({ 'registrations-per-minute': '30' }, defaults)).toEqual({
    rateLimits: { registrations: { capacity: 30, refillMs: 2_000 } },
  });
});

test('a limit that is not a whole number above zero is a usage error naming the flag', () => {
  expect(() => parseLimitFlags({ 'max-connections': '0' }, defaults)).toThrow(/--max-connections/);
  expect(() => parseLimitFlags({ 'error-budget': 'lots' }, defaults)).toThrow(
    expect.objectContaining({ code: 'BAD_ARGUMENT' }),
  );
});

test.each([false, true])('the usage text names every flag the server takes (tls: %s)', (tls) => {
  const usage = limitsUsage({ tls });
  for (const flag of Object.keys(tls ? tlsLimitFlags : limitFlags)) {
    expect(usage).toContain(`--${flag} N`);
  }
  expect(usage.includes('--connections-per-ip')).toBe(tls); // a plain server has no handshake to pace
});

test('with TLS the usage says what the flags count that a plain server lacks', () => {
  expect(limitsUsage({ tls: true })).toMatch(/before the TLS\s+handshake/);
  expect(limitsUsage({ tls: true })).toContain('failed logins or tickets');
  expect(limitsUsage({ tls: false })).not.toMatch(/TLS|tickets/);
});
