/**
 * The measurement behind `npm run stage3`: put a server under hashing load
 * and record how it feels to a client that only sends `ping`.
 *
 * Several clients ask for hashes back to back, while one more client sends a
 * `ping` every few milliseconds and times each `pong`. At the same time the
 * process measures its own event loop (`perf_hooks.monitorEventLoopDelay`: how
 * late a periodic timer fires, i.e. how long the loop was stuck in one
 * callback) and its CPU time (`process.cpuUsage()` counts every thread, so CPU
 * seconds per wall-clock second says how many cores were busy).
 *
 * @module
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { LineClient } from './line-client';

/** What to throw at the server. */
export interface LoadOptions {
  /** Server port. */
  port: number;
  /** Server address. Default `127.0.0.1`. */
  host?: string;
  /** Total hashes to request. */
  hashes: number;
  /** Connections sharing those hashes, each asking for its next hash when the last one came back. */
  clients: number;
  /** Pause between one `pong` and the next `ping`. Default 10 ms. */
  pingIntervalMs?: number;
}

/** What the load looked like from the outside. Times are in milliseconds. */
export interface LoadResult {
  /** Wall-clock time from the first request to the last hash. */
  elapsedMs: number;
  /** Hashes answered per second of wall-clock time. */
  hashesPerSecond: number;
  /** Hash requests answered with an error line instead of a hash. */
  errors: number;
  /** Pings answered during the run. */
  pings: number;
  /** Median ping round trip. */
  pingP50Ms: number;
  /** Slowest ping round trip. */
  pingMaxMs: number;
  /** Longest time the event loop was stuck (timer lateness beyond its interval). */
  loopStallMaxMs: number;
  /** CPU time of all threads divided by wall-clock time: about how many cores were busy. */
  cpuCores: number;
}

const LOOP_SAMPLE_MS = 10;

/**
 * Runs the load against a listening server and measures it.
 *
 * @param options - where the server is and how much to ask of it
 * @returns the measured numbers
 */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const host = options.host ?? '127.0.0.1';
  const pinger = await LineClient.connect(options.port, host);
  const hashers = await Promise.all(
    Array.from({ length: options.clients }, () => LineClient.connect(options.port, host)),
  );
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  const rtts: number[] = [];
  let stopped = false;
  let errors = 0;

  loop.enable();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();

  const pinging = (async () => {
    while (!stopped) {
      const sent = performance.now();
      pinger.send('ping');
      await pinger.next();
      rtts.push(performance.now() - sent);
      await delay(options.pingIntervalMs ?? 10);
    }
  })();
  // Client i asks for hashes i, i + clients, i + 2*clients, ... one at a time.
  await Promise.all(
    hashers.map(async (client, i) => {
      for (let n = i; n < options.hashes; n += options.clients) {
        client.send(`hash demo-password-${n}`);
        if ((await client.next()).startsWith('!')) errors++;
      }
    }),
  );

  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  stopped = true;
  await pinging;
  for (const client of [pinger, ...hashers]) client.close();

  return {
    elapsedMs,
    hashesPerSecond: (options.hashes - errors) / (elapsedMs / 1000),
    errors,
    pings: rtts.length,
    pingP50Ms: percentile(rtts, 50),
    pingMaxMs: Math.max(0, ...rtts),
    // The histogram records whole timer intervals in nanoseconds; what exceeds
    // the interval is the time the loop could not run the timer.
    loopStallMaxMs: Math.max(0, loop.max / 1e6 - LOOP_SAMPLE_MS),
    cpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

/**
 * The p-th percentile of some numbers (nearest-rank method).
 *
 * @param values - the samples, in any order
 * @param p - the percentile, 0-100
 * @returns the sample at that rank, or 0 when there are none
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
