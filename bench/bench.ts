/**
 * The harness: for each round and each target, start a fresh server process,
 * drive a fresh load process against it, measure, and stop both; then, when
 * stage 6 is among the targets, its two login scenarios.
 *
 * Every server starts fresh for each measurement, so one measurement's
 * leftovers (a grown heap, a fragmented allocator) never count in the next
 * one. Targets alternate order from round to round, so no target always
 * runs first on a cold machine or last on a warm one.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError } from '../shared/src/errors';
import type { FanoutResult } from './fanout';
import { loadFanout, loadIdle, REPO_ROOT } from './load-control';
import {
  measureBurst,
  measureLogins,
  type BurstMeasurement,
  type LoginMeasurement,
} from './login-bench';
import { checkOpenFiles, machineInfo, type MachineInfo } from './machine';
import type { BenchOptions } from './options';
import { createRunFiles, removeRunFiles, type RunFiles } from './run-files';
import { cpuMeter, launchServer, type ServerProcess } from './server-process';
import { TARGETS, type Target } from './targets';

/** A fan-out result plus what the parent saw of the server meanwhile. */
export interface FanoutMeasurement extends FanoutResult {
  /** CPU the server used during the measured period, in percent of one core. */
  serverCpuPercent: number;
}

/** What the idle-connections measurement found. */
export interface IdleMeasurement {
  /** Connections held open while measuring. */
  connections: number;
  /** Connections the server dropped meanwhile (should be 0). */
  disconnected: number;
  /** The server's VmRSS before any client connected, in KiB. */
  baselineRssKiB: number;
  /** VmRSS growth per connection, in KiB. */
  rssPerConnectionKiB: number;
  /** JavaScript heap growth per connection after a full GC, in KiB (null if unavailable). */
  heapPerConnectionKiB: number | null;
}

/** Both measurements of one target in one round. */
export interface RoundMeasurement {
  /** The target's name. */
  target: string;
  /** 1-based round number. */
  round: number;
  /** The fan-out measurement, or null when the fan-out scenario was not asked for. */
  fanout: FanoutMeasurement | null;
  /** The idle measurement, or null when `--idle 0` or the idle scenario was not asked for. */
  idle: IdleMeasurement | null;
}

/** Everything one run measured. */
export interface BenchResult {
  /** Where it ran. */
  machine: MachineInfo;
  /** With which options. */
  options: BenchOptions;
  /** The targets measured, baseline first. */
  targets: Target[];
  /** Targets left out, and why (for example, a stage not written yet). */
  skipped: { target: string; reason: string }[];
  /** One entry per target per round (fan-out and idle). */
  rounds: RoundMeasurement[];
  /** One entry per round of the stage 6 logins-per-second scenario. */
  logins: LoginMeasurement[];
  /** One entry per round of the stage 6 login-burst scenario. */
  bursts: BurstMeasurement[];
}

/**
 * Runs the whole benchmark.
 *
 * @param options - see options.ts
 * @param log - receives one progress line per measurement
 * @throws ChatError `BAD_ARGUMENT` if `--only` names a target whose server does not exist yet
 */
export async function runBench(
  options: BenchOptions,
  log: (line: string) => void = () => {},
): Promise<BenchResult> {
  const machine = machineInfo();
  const has = (scenario: BenchOptions['scenarios'][number]) => options.scenarios.includes(scenario);
  const idleCount = has('idle') ? options.idle : 0;
  checkOpenFiles(machine, Math.max(has('fanout') ? options.clients : 0, idleCount, options.burst));
  const skipped: BenchResult['skipped'] = [];
  const targets = TARGETS.filter((target) => {
    if (options.only !== null && !options.only.includes(target.name)) return false;
    if (existsSync(path.join(REPO_ROOT, target.entryFile))) return true;
    const reason = `${target.entryFile} does not exist yet`;
    if (options.only !== null) throw new ChatError('BAD_ARGUMENT', `${target.name}: ${reason}`);
    skipped.push({ target: target.name, reason });
    return false;
  });
  const stage6 = targets.some((t) => t.name === 'stage6');

  const started = performance.now();
  const progress = (line: string) =>
    log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const result: BenchResult = {
    machine,
    options,
    targets,
    skipped,
    rounds: [],
    logins: [],
    bursts: [],
  };
  const files = createRunFiles();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        if (!has('fanout') && idleCount === 0) break;
        const fanout = has('fanout') ? await measureFanout(target, options, files) : null;
        if (fanout) {
          progress(
            `round ${round} ${target.name} fan-out: ${Math.round(fanout.deliveredPerSecond)} msg/s, ` +
              `p50 ${fanout.p50Ms.toFixed(2)} ms, p99 ${fanout.p99Ms.toFixed(2)} ms, ` +
              `server CPU ${fanout.serverCpuPercent.toFixed(0)}%, load CPU ${fanout.loadCpuPercent.toFixed(0)}%`,
          );
        }
        const idle =
          idleCount > 0 && target.idle !== false
            ? await measureIdle(target, idleCount, files)
            : null;
        if (idle) {
          progress(
            `round ${round} ${target.name} idle: ${idle.connections} connections, ` +
              `${idle.rssPerConnectionKiB.toFixed(2)} KiB RSS each`,
          );
        }
        result.rounds.push({ target: target.name, round, fanout, idle });
      }
      if (stage6 && has('logins')) {
        const m = await measureLogins(options, files, round);
        progress(
          `round ${round} stage6 logins: ${m.loginsPerSecond.toFixed(2)}/s of at most ` +
            `${m.maxLoginsPerSecond.toFixed(2)}/s (t_hash ${m.hashMs.toFixed(0)} ms), ` +
            `${m.failed} failed`,
        );
        result.logins.push(m);
      }
      if (stage6 && has('burst')) {
        const m = await measureBurst(options, files, round);
        progress(
          `round ${round} stage6 burst: chat p99 ${m.quiet.p99Ms.toFixed(2)} ms quiet, ` +
            `${m.burst.p99Ms.toFixed(2)} ms during ${m.loginsOk} logins in ` +
            `${m.burstSeconds.toFixed(1)} s (${m.loginsFailed} failed)`,
        );
        result.bursts.push(m);
      }
    }
  } finally {
    removeRunFiles(files);
  }
  return result;
}

async function measureFanout(
  target: Target,
  options: BenchOptions,
  files: RunFiles,
): Promise<FanoutMeasurement> {
  const server = await launchServer(target, target.serverArgs?.(files));
  try {
    const cpu = cpuMeter(server);
    const job = {
      clients: options.clients,
      senders: options.senders,
      window: options.window,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      payloadBytes: options.payloadBytes,
    };
    const result = await loadFanout(target.name, server.endpoint, files, job, cpu.mark);
    return { ...result, serverCpuPercent: cpu.percent };
  } finally {
    await server.stop();
  }
}

async function measureIdle(
  target: Target,
  count: number,
  files: RunFiles,
): Promise<IdleMeasurement> {
  const server = await launchServer(target, target.serverArgs?.(files));
  try {
    const before = await settle(server);
    let after: Settled = { rssKiB: NaN, heapUsed: null };
    const result = await loadIdle(target.name, server.endpoint, files, count, async () => {
      after = await settle(server);
    });
    const perConnection = (early: number, later: number) => (later - early) / result.opened;
    return {
      connections: result.opened,
      disconnected: result.disconnected,
      baselineRssKiB: before.rssKiB,
      rssPerConnectionKiB: perConnection(before.rssKiB, after.rssKiB),
      heapPerConnectionKiB:
        before.heapUsed !== null && after.heapUsed !== null
          ? perConnection(before.heapUsed, after.heapUsed) / 1024
          : null,
    };
  } finally {
    await server.stop();
  }
}

interface Settled {
  rssKiB: number;
  heapUsed: number | null;
}

/**
 * Collects garbage in the server and reads its RSS until two readings half a
 * second apart agree within 64 KiB (at most 8 tries). A single reading right
 * after a burst of work (start-up, 1,000 logins or joins) still counts
 * garbage that V8 has freed but not yet returned to the OS; the per-connection
 * signal is only a few MiB, so that noise would swamp it.
 */
async function settle(server: ServerProcess): Promise<Settled> {
  let previous = NaN;
  let report = null;
  for (let attempt = 0; attempt < 8; attempt++) {
    await sleep(500);
    report = await server.memory();
    const rss = server.rssKiB();
    if (Math.abs(rss - previous) <= 64) return { rssKiB: rss, heapUsed: report?.heapUsed ?? null };
    previous = rss;
  }
  return { rssKiB: previous, heapUsed: report?.heapUsed ?? null };
}
