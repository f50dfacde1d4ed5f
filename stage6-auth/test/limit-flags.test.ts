import { parseLimitFlags } from '../src/limit-flags';

test('each limit flag sets its server option; absent flags set nothing', () => {
  expect(parseLimitFlags({})).toEqual({});
  expect(
    parseLimitFlags({
      'max-connections': '500',
      'max-prelogin-per-ip': '4',
      'hash-jobs-per-ip': '2',
      'registrations-per-ip': '6',
      'registrations-per-minute': '120',
      'error-budget': '3',
      'failed-logins-per-ip': '50',
    }),
  ).toEqual({
    maxConnections: 500,
    maxPreLoginPerAddress: 4,
    hashJobsPerAddress: 2,
    errorBudget: { capacity: 3, refillMs: 6_000 },
    // 6 an hour: a burst of 6, one more every 10 minutes; 120 a minute: one every 0.5 s.
    rateLimits: {
      perIp: { capacity: 50, refillMs: 3_000 },
      registrationsPerIp: { capacity: 6, refillMs: 600_000 },
      registrations: { capacity: 120, refillMs: 500 },
    },
  });
});

test('a limit that is not a whole number above zero is a usage error', () => {
  expect(() => parseLimitFlags({ 'max-connections': '0' })).toThrow(/--max-connections/);
  expect(() => parseLimitFlags({ 'error-budget': 'lots' })).toThrow(
    expect.objectContaining({ code: 'BAD_ARGUMENT' }),
  );
});
