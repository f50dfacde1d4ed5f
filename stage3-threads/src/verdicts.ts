/**
 * What the stage 3 demo concludes from its two measurements: each sentence
 * is decided by the numbers, so a run that did not show a freeze (hashes too
 * cheap, a busy machine) says so instead of claiming one.
 *
 * @module
 */
import type { LoadResult } from './measure';

/**
 * The longest event-loop stall, in milliseconds, that nobody notices: below
 * it the loop counts as free. A chat message 50 ms late is not felt; a whole
 * bcrypt hash at cost 10 (the demo prints how long one takes here) is.
 */
export const NOTICEABLE_STALL_MS = 50;

/** The pool counts as faster when it hashes at least this many times as fast. */
const FASTER = 1.2;

/**
 * A run shorter than this (in milliseconds) is too short to judge the pool's
 * speed by: each new worker starts with bcrypt's code not yet compiled, and the
 * first hashes pay for that.
 */
const SHORT_RUN_MS = 1000;

/** What the demo needs to know besides the measurements. */
export interface DemoSetup {
  /** Worker threads in pool mode. */
  workers: number;
  /** Connections asking for hashes. */
  clients: number;
}

/** A duration as the demo prints it: `0.4 ms`, `281 ms`. */
export function ms(value: number): string {
  return (value < 10 ? value.toFixed(1) : value.toFixed(0)) + ' ms';
}

/**
 * The demo's two closing sentences, one per mode, computed from the numbers.
 *
 * @param blocking - the measurement with hashes on the event loop
 * @param pool - the measurement with hashes in worker threads
 * @param setup - workers and clients
 * @returns two lines: blocking first, then pool
 *
 * @example
 * ```ts
 * verdictLines(blocking, pool, { workers: 2, clients: 4 })[0];
 * //=> 'blocking: ping max 281 ms: every client waited while a hash ran on the event loop (…)'
 * ```
 */
export function verdictLines(blocking: LoadResult, pool: LoadResult, setup: DemoSetup): string[] {
  const froze = blocking.loopStallMaxMs >= NOTICEABLE_STALL_MS;
  const blockingLine = froze
    ? `blocking: ping max ${ms(blocking.pingMaxMs)}: every client waited while a hash ran on ` +
      `the event loop (stalls up to ${ms(blocking.loopStallMaxMs)}; ` +
      `${blocking.cpuCores.toFixed(2)} cores busy: one thread does everything)`
    : `blocking: ping max ${ms(blocking.pingMaxMs)}: no client froze noticeably, the longest ` +
      `stall was ${ms(blocking.loopStallMaxMs)}: these hashes are too quick to feel ` +
      `(try --cost 12)`;

  const label = poolLabel(setup.workers);
  const free = pool.loopStallMaxMs < NOTICEABLE_STALL_MS;
  const loop = free
    ? 'the event loop stayed free'
    : `the event loop still stalled up to ${ms(pool.loopStallMaxMs)} (a busy machine? ` +
      'see the load average above)';
  const atOnce = Math.min(setup.workers, setup.clients);
  const speedup = pool.hashesPerSecond / blocking.hashesPerSecond;
  const speed =
    speedup >= FASTER
      ? `${speedup.toFixed(1)}x the hashes per second`
      : speedup > 1 / FASTER
        ? `about as many hashes per second as blocking (${whyNoFaster(blocking, pool, setup, false)})`
        : `only ${speedup.toFixed(1)}x the hashes per second ` +
          `(${whyNoFaster(blocking, pool, setup, true)})`;
  const poolLine =
    `${label}: ping max ${ms(pool.pingMaxMs)}: ${loop}; ` +
    `${atOnce} ${atOnce === 1 ? 'hash' : 'hashes'} at a time used ` +
    `${pool.cpuCores.toFixed(2)} cores, ${speed}`;
  return [blockingLine, poolLine];
}

/**
 * How the demo names pool mode: `pool (1 worker)`, `pool (2 workers)`.
 *
 * @param workers - worker threads in the pool
 * @returns the label of the pool's row and sentence
 */
export function poolLabel(workers: number): string {
  return `pool (${workers} ${workers === 1 ? 'worker' : 'workers'})`;
}

/**
 * Why a pool hashed no faster than blocking, as far as the numbers tell: it
 * ran one hash at a time; or it got no more CPU than blocking (no spare core);
 * or it got the cores and spent them on more CPU per hash (the overhead of
 * threads, which a short run of cheap hashes cannot repay).
 */
function whyNoFaster(
  blocking: LoadResult,
  pool: LoadResult,
  setup: DemoSetup,
  slower: boolean,
): string {
  if (setup.workers === 1) return 'one worker runs one hash at a time, as blocking does';
  if (setup.clients === 1) return 'one client asks for one hash at a time';
  if (pool.cpuCores < blocking.cpuCores * FASTER) {
    return slower ? 'other work had the cores' : 'no spare core to use';
  }
  const cpuPerHash = (r: LoadResult) => (r.cpuCores * 1000) / r.hashesPerSecond;
  const short = pool.elapsedMs < SHORT_RUN_MS;
  return (
    `the cores went on overhead, ${ms(cpuPerHash(pool))} of CPU per hash against ` +
    `${ms(cpuPerHash(blocking))} blocking` +
    (short
      ? `; a ${ms(pool.elapsedMs)} run is too short to repay the threads' warm-up, ` +
        'try --hashes 2000'
      : '')
  );
}
