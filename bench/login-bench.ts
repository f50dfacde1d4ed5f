/**
 * The parent's side of the two stage 6 login scenarios: prepare a database
 * of users, time one bcrypt comparison, start a stage 6 server at the real
 * cost, and run the load.
 *
 * **Seeding.** The users exist before the server starts: the benchmark writes
 * them into a fresh SQLite file with the store stage 6 itself uses. They all
 * share one bcrypt hash of the benchmark password, made once at the
 * configured cost. Registering them through the server would cost one full
 * hash each (seconds per round at cost 12) to measure nothing
 * the scenarios ask about; sharing the hash changes nothing for a login,
 * which compares the password against the stored hash at its cost either way.
 *
 * **The theoretical maximum.** A login cannot be faster than its one bcrypt
 * comparison, and the server runs `workers` of them at a time, so at most
 * `workers / t_hash` logins per second. `t_hash` is measured here, in this
 * process, right before the server starts (nothing else is running then):
 * the median of a few `bcryptjs.compareSync` calls, the very function the
 * server's workers run.
 *
 * @module
 */
import bcrypt from 'bcryptjs';
import { openUserStore } from '../shared/src/user-store';
import { loadMarked } from './load-control';
import type { BurstResult } from './login-burst';
import { BENCH_PASSWORD } from './login-client';
import type { LoginsResult } from './logins';
import type { BenchOptions } from './options';
import { runFile, type RunFiles } from './run-files';
import { cpuMeter, launchServer, type ServerProcess } from './server-process';
import { summarize } from './stats';
import { targetNamed } from './targets';

/** One round of the logins-per-second scenario. */
export interface LoginMeasurement extends LoginsResult {
  /** 1-based round number. */
  round: number;
  /** Milliseconds one bcrypt comparison took in this round (median of a few). */
  hashMs: number;
  /** `workers / t_hash`: the most logins per second the hashing workers allow. */
  maxLoginsPerSecond: number;
  /** Measured logins per second divided by {@link maxLoginsPerSecond}. */
  ratio: number;
  /** Server CPU (all threads) during the logins, in percent of one core. */
  serverCpuPercent: number;
}

/** One round of the login-burst scenario. */
export interface BurstMeasurement extends BurstResult {
  /** 1-based round number. */
  round: number;
  /** Burst p99 latency divided by quiet p99 latency. */
  p99Ratio: number;
  /**
   * The worst delay of a 5-ms timer on the server's main thread during the
   * burst, in milliseconds (null if the probe did not answer): how long the
   * event loop was held by something, while the hashing ran in its worker.
   */
  stallMs: number | null;
  /** Server CPU (all threads) during the burst, in percent of one core. */
  serverCpuPercent: number;
}

/** The goal for the burst scenario: chat p99 during a burst at most this multiple of quiet. */
export const MAX_BURST_P99_RATIO = 2;
/** Milliseconds between two messages of one chatter in the burst scenario. */
export const CHAT_INTERVAL_MS = 20;
/** Seconds of chat measured with no logins, before the burst. */
export const QUIET_SECONDS = 3;

// Generous: at cost 20 one login takes minutes; the scenarios bound their size instead.
const LOAD_TIMEOUT_MS = 600_000;

const hashes = new Map<number, string>();

/**
 * Times `bcryptjs.compareSync` at `cost` and returns a hash of the benchmark
 * password at that cost for seeding. One untimed comparison first lets the
 * JIT compile bcrypt (the server's workers are warm too: each computed a
 * dummy hash at start-up); then the median of at least 3 timed comparisons,
 * and of as many as fit in about 300 ms at low costs.
 *
 * @param cost - the bcrypt cost
 */
export function timeHash(cost: number): { hash: string; hashMs: number } {
  let hash = hashes.get(cost);
  if (hash === undefined) {
    hash = bcrypt.hashSync(BENCH_PASSWORD, cost);
    hashes.set(cost, hash);
  }
  const compare = () => {
    if (!bcrypt.compareSync(BENCH_PASSWORD, hash)) throw new Error('bcrypt self-check failed');
  };
  compare();
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 3 || (performance.now() - started < 300 && times.length < 200)) {
    const t0 = performance.now();
    compare();
    times.push(performance.now() - t0);
  }
  return { hash, hashMs: summarize(times).median };
}

/** Writes users `PREFIX0` … into the SQLite file `dbFile`, all with `hash`. */
async function seed(dbFile: string, hash: string, groups: [prefix: string, count: number][]) {
  const store = await openUserStore({ sqlitePath: dbFile });
  try {
    for (const [prefix, count] of groups) {
      for (let i = 0; i < count; i++) await store.createUser(`${prefix}${i}`, hash);
    }
  } finally {
    await store.close();
  }
}

/**
 * What the login scenarios' servers are started with besides their files:
 * the scenario's cost and worker count (by default the server's own
 * defaults, 12 and cores − 1) and nothing else, so every limit (the hashing
 * queue's admission, the per-address caps, the rate limits, the login
 * deadline) is as shipped. `--log-level warn` only keeps per-login lines out
 * of the pipe.
 *
 * @param options - the run's options
 */
export function loginServerArgs(options: BenchOptions): string[] {
  return [
    ...['--bcrypt-cost', String(options.bcryptCost), '--hash-workers', String(options.hashWorkers)],
    ...['--log-level', 'warn'],
  ];
}

/** Starts a stage 6 server on a seeded database, with {@link loginServerArgs}. */
async function startSeeded(
  options: BenchOptions,
  files: RunFiles,
  hash: string,
  groups: [string, number][],
): Promise<ServerProcess> {
  const dbFile = runFile(files, 'logins', '.sqlite');
  await seed(dbFile, hash, groups);
  return launchServer(targetNamed('stage6'), [
    ...['--key-file', files.keyFile, '--db-file', dbFile],
    ...loginServerArgs(options),
  ]);
}

/**
 * One round of the logins-per-second scenario.
 *
 * @param options - cost, workers, logins and concurrency
 * @param files - the run's files
 * @param round - the round number
 */
export async function measureLogins(
  options: BenchOptions,
  files: RunFiles,
  round: number,
): Promise<LoginMeasurement> {
  const { hash, hashMs } = timeHash(options.bcryptCost);
  const server = await startSeeded(options, files, hash, [['l', options.logins]]);
  try {
    const cpu = cpuMeter(server);
    const job = { userPrefix: 'l', count: options.logins, concurrency: options.loginClients };
    const request = { type: 'logins' as const, endpoint: server.endpoint, files, job };
    const result = await loadMarked<LoginsResult>(request, cpu.mark, LOAD_TIMEOUT_MS);
    const maxLoginsPerSecond = options.hashWorkers / (hashMs / 1000);
    return {
      ...result,
      round,
      hashMs,
      maxLoginsPerSecond,
      ratio: result.loginsPerSecond / maxLoginsPerSecond,
      serverCpuPercent: cpu.percent,
    };
  } finally {
    await server.stop();
  }
}

/**
 * One round of the login-burst scenario.
 *
 * @param options - cost, workers, burst size, chatters, message size
 * @param files - the run's files
 * @param round - the round number
 */
export async function measureBurst(
  options: BenchOptions,
  files: RunFiles,
  round: number,
): Promise<BurstMeasurement> {
  const { hash } = timeHash(options.bcryptCost);
  const groups: [string, number][] = [
    ['c', options.chatters],
    ['u', options.burst],
  ];
  const server = await startSeeded(options, files, hash, groups);
  try {
    const cpu = cpuMeter(server);
    const job = {
      chatterPrefix: 'c',
      chatters: options.chatters,
      intervalMs: CHAT_INTERVAL_MS,
      burstPrefix: 'u',
      burst: options.burst,
      warmupSeconds: 1,
      quietSeconds: QUIET_SECONDS,
      payloadBytes: options.payloadBytes,
    };
    let stall: Promise<number | null> = Promise.resolve(null);
    const mark = (phase: 'start' | 'end') => {
      cpu.mark(phase);
      stall = server.stall(phase === 'start' ? 'start' : 'stop');
    };
    const request = { type: 'burst' as const, endpoint: server.endpoint, files, job };
    const result = await loadMarked<BurstResult>(request, mark, LOAD_TIMEOUT_MS);
    return {
      ...result,
      round,
      p99Ratio: result.burst.p99Ms / result.quiet.p99Ms,
      serverCpuPercent: cpu.percent,
      stallMs: await stall,
    };
  } finally {
    await server.stop();
  }
}
