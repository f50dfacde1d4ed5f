// The limit flags keep stage 6's names and turn into the server's options.
import { parseLimitFlags } from '../src/limit-flags';

test('each flag becomes its option; absent flags leave the defaults', () => {
  expect(parseLimitFlags({})).toEqual({});
  expect(
    parseLimitFlags({
      'max-connections': '100',
      'max-prelogin-per-ip': '5',
      'hash-jobs-per-ip': '2',
      'registrations-per-ip': '60',
      'registrations-per-minute': '30',
      'failed-logins-per-ip': '7',
      'error-budget': '3',
    }),
  ).toEqual({
    maxConnections: 100,
    maxPreLoginPerAddress: 5,
    hashJobsPerAddress: 2,
    errorBudget: { capacity: 3, refillMs: 6_000 },
    rateLimits: {
      perIp: { capacity: 7, refillMs: 3_000 },
      registrationsPerIp: { capacity: 60, refillMs: 60_000 },
      registrations: { capacity: 30, refillMs: 2_000 },
    },
  });
});

test('a value that is not a whole number ≥ 1 is BAD_ARGUMENT naming the flag', () => {
  expect(() => parseLimitFlags({ 'error-budget': '0' })).toThrow(/--error-budget/);
});
