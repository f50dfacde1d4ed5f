import { createLogger } from '../src/logger';
import { LogSampler } from '../src/log-sampler';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { lines, logger };
}

afterEach(() => jest.useRealTimers());

test('the first lines of a kind are written, the rest counted, and the count logged once per interval', () => {
  jest.useFakeTimers();
  const { lines, logger } = captured();
  const sampler = new LogSampler(logger, { perInterval: 3, intervalMs: 1000 });
  let written = 0;
  for (let i = 0; i < 10_000; i++) if (sampler.allow('bad_frame')) written++;
  expect(sampler.allow('connect')).toBe(true); // kinds are counted apart
  expect(written).toBe(3);
  expect(lines).toEqual([]);
  jest.advanceTimersByTime(1000);
  expect(lines).toEqual([
    expect.objectContaining({ event: 'log_suppressed', counts: { bad_frame: 9997 } }),
  ]);
  // A new interval: three more may be written.
  expect(sampler.allow('bad_frame')).toBe(true);
  sampler.close();
});

test('a kind may have its own allowance; close() writes what is pending', () => {
  const { lines, logger } = captured();
  const sampler = new LogSampler(logger);
  expect(sampler.allow('server_error:EMFILE', 1)).toBe(true);
  expect(sampler.allow('server_error:EMFILE', 1)).toBe(false);
  expect(sampler.allow('server_error:EMFILE', 1)).toBe(false);
  sampler.close();
  expect(lines).toEqual([
    expect.objectContaining({ event: 'log_suppressed', counts: { 'server_error:EMFILE': 2 } }),
  ]);
});
