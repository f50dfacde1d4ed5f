// The demo's closing sentences follow the numbers: no "froze" for a 2 ms stall.
import type { LoadResult } from '../src/measure';
import { NOTICEABLE_STALL_MS, verdictLines } from '../src/verdicts';

const result = (over: Partial<LoadResult>): LoadResult => ({
  elapsedMs: 1000,
  hashesPerSecond: 10,
  errors: 0,
  pings: 50,
  pingP50Ms: 1,
  pingMaxMs: 2,
  loopStallMaxMs: 2,
  cpuCores: 1,
  ...over,
});
const setup = { workers: 2, clients: 4 };

test('a real freeze is called one, and a free pool that hashes faster is said to', () => {
  const [blocking, pool] = verdictLines(
    result({ pingMaxMs: 281, loopStallMaxMs: 133, cpuCores: 1.02, hashesPerSecond: 14 }),
    result({ pingMaxMs: 1.1, loopStallMaxMs: 7.8, cpuCores: 1.98, hashesPerSecond: 25.5 }),
    setup,
  );
  expect(blocking).toBe(
    'blocking: ping max 281 ms: every client waited while a hash ran on the event loop (stalls up to 133 ms; 1.02 cores busy: one thread does everything)',
  );
  expect(pool).toBe(
    'pool (2 workers): ping max 1.1 ms: the event loop stayed free; 2 hashes at a time used 1.98 cores, 1.8x the hashes per second',
  );
});

test('a 2 ms stall is not called a freeze', () => {
  const [blocking] = verdictLines(result({ loopStallMaxMs: 2 }), result({}), setup);
  expect(blocking).not.toMatch(/every client|waited while/);
  expect(blocking).toMatch(/no client froze noticeably, the longest stall was 2\.0 ms/);
});

test('the line between the two is NOTICEABLE_STALL_MS', () => {
  const just = (stall: number) =>
    verdictLines(result({ loopStallMaxMs: stall }), result({}), setup)[0];
  expect(just(NOTICEABLE_STALL_MS)).toMatch(/every client waited/);
  expect(just(NOTICEABLE_STALL_MS - 0.1)).toMatch(/no client froze/);
});

test('a pool that stalled, or did not hash faster, says so instead of claiming otherwise', () => {
  const blocking = result({ loopStallMaxMs: 300, hashesPerSecond: 10 });
  const same = verdictLines(
    blocking,
    result({ loopStallMaxMs: 120, hashesPerSecond: 10.5 }),
    setup,
  )[1];
  expect(same).toMatch(/the event loop still stalled up to 120 ms/);
  expect(same).toMatch(/about as many hashes per second as blocking/);
  expect(same).not.toMatch(/stayed free|x the hashes/);
  const slower = verdictLines(blocking, result({ hashesPerSecond: 5 }), setup)[1];
  expect(slower).toMatch(/only 0\.5x the hashes per second/);
});
