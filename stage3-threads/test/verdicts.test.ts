// The demo's closing sentences follow the numbers: no "froze" for a 2 ms stall.
import type { LoadResult } from '../src/measure';
import { NOTICEABLE_STALL_MS, poolLabel, verdictLines } from '../src/verdicts';

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

test('one worker is one worker, one hash at a time, and no core is said to be missing', () => {
  // npm run stage3 -- --workers 1, on 2 cores: the pool has one thread to use.
  const pool = verdictLines(
    result({ loopStallMaxMs: 143, cpuCores: 1.01, hashesPerSecond: 13.7 }),
    result({ pingMaxMs: 1.1, cpuCores: 1.05, hashesPerSecond: 13.8 }),
    { workers: 1, clients: 4 },
  )[1];
  expect(pool).toMatch(/^pool \(1 worker\): /);
  expect(pool).toMatch(/ 1 hash at a time used 1\.05 cores, about as many hashes per second/);
  expect(pool).toMatch(/one worker runs one hash at a time, as blocking does/);
  expect(pool).not.toMatch(/workers\)|1 hashes|spare core/);
  expect(poolLabel(1)).toBe('pool (1 worker)');
  expect(poolLabel(2)).toBe('pool (2 workers)');
});

test('one client asking is why the pool runs one hash at a time', () => {
  const pool = verdictLines(
    result({ cpuCores: 1.0, hashesPerSecond: 480 }),
    result({ cpuCores: 1.3, hashesPerSecond: 456 }),
    { workers: 2, clients: 1 },
  )[1];
  expect(pool).toMatch(/ 1 hash at a time used 1\.30 cores/);
  expect(pool).toMatch(/one client asks for one hash at a time/);
  expect(pool).not.toMatch(/spare core/);
});

test('a pool that had the cores but no more hashes blames its overhead, not the cores', () => {
  // npm run stage3 -- --cost 4 on 2 cores: 24 hashes of about 2 ms each, a
  // 54 ms run; both workers busy (1.93 cores), each hash costing more CPU.
  const blocking = result({ elapsedMs: 50, cpuCores: 1.35, hashesPerSecond: 482.2 });
  const same = verdictLines(
    blocking,
    result({ elapsedMs: 54, cpuCores: 1.93, hashesPerSecond: 444.9 }),
    setup,
  )[1];
  expect(same).toMatch(/2 hashes at a time used 1\.93 cores, about as many hashes per second/);
  expect(same).toMatch(/4\.3 ms of CPU per hash against 2\.8 ms blocking/);
  expect(same).toMatch(/a 54 ms run/);
  expect(same).toMatch(/try --hashes 2000/);
  expect(same).not.toMatch(/spare core|other work had the cores/);
  const slower = verdictLines(
    blocking,
    result({ elapsedMs: 120, cpuCores: 1.9, hashesPerSecond: 200 }),
    setup,
  )[1];
  expect(slower).toMatch(/only 0\.4x the hashes per second/);
  expect(slower).toMatch(/9\.5 ms of CPU per hash/);
  expect(slower).not.toMatch(/other work had the cores/);
});

test('a pool that got no more CPU than blocking is said to have had no spare core', () => {
  const blocking = result({ cpuCores: 1.0, hashesPerSecond: 14 });
  const same = verdictLines(blocking, result({ cpuCores: 1.02, hashesPerSecond: 14.2 }), setup)[1];
  expect(same).toMatch(/about as many hashes per second as blocking \(no spare core to use\)/);
  const slower = verdictLines(blocking, result({ cpuCores: 1.0, hashesPerSecond: 7 }), setup)[1];
  expect(slower).toMatch(/only 0\.5x the hashes per second \(other work had the cores\)/);
});
