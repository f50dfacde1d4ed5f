/**
 * The harness: rounds × targets × scenarios (bench/README.md), with a fresh
 * server process and a fresh load process for every measurement, so one
 * measurement's leftovers (a grown heap, a fragmented allocator) never count
 * in the next. Targets alternate order from round to round, so no target
 * always runs first on a cold machine or last on a warm one.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ChatError } from '../shared/src/errors';
import { runCluster, type ClusterMeasurement } from './cluster';
import { measureFanout, measureIdle, type FanoutMeasurement, type IdleMeasurement } from './fanout';
import { REPO_ROOT } from './load-control';
import {
  measureBurst,
  measureLogins,
  type BurstMeasurement,
  type LoginMeasurement,
} from './logins';
import { checkLimits, machineInfo, type MachineInfo } from './machine';
import type { BenchOptions } from './options';
import { createRunFiles, removeRunFiles } from './run-files';
import { measureScale, type ScaleMeasurement } from './scale';
import type { Target } from './target';
import { TARGETS } from './targets';

/** What one target measured in one round. */
export interface RoundMeasurement {
  /** The target's name. */
  target: string;
  /** 1-based round number. */
  round: number;
  /** The fan-out measurement, or null when the fan-out scenario was not asked for. */
  fanout: FanoutMeasurement | null;
  /** The paced fan-out (one sender at `--pace` msg/s), or null when not measured. */
  paced: FanoutMeasurement | null;
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
  /** One entry per target per round of the scale scenario. */
  scale: ScaleMeasurement[];
  /** One entry per layout per round of the cluster scenario (stage 9 over Redis). */
  cluster: ClusterMeasurement[];
  /** Why the cluster scenario was asked for but did not run (Redis unreachable), else null. */
  clusterSkipped: string | null;
  /** The command that produced this run, e.g. `npm run bench -- --quick`. */
  command: string;
  /** Seconds the whole run took. */
  seconds: number;
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
  command = 'npm run bench',
): Promise<BenchResult> {
  const machine = machineInfo();
  const has = (scenario: BenchOptions['scenarios'][number]) => options.scenarios.includes(scenario);
  const idleCount = has('idle') ? options.idle : 0;
  const scaleCount = has('scale') ? options.scale : 0;
  const scaleServer = scaleCount > 0 ? scaleCount + options.active : 0;
  // The scale scenario's server holds the most; its load processes fewer (see scale.ts).
  const perProcess = [has('fanout') ? options.clients : 0, idleCount, options.burst, scaleServer];
  checkLimits(machine, Math.max(...perProcess), Math.max(idleCount, scaleServer));
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
    scale: [],
    cluster: [],
    clusterSkipped: null,
    command,
    seconds: NaN,
  };
  const scaleTargets = scaleCount > 0 ? targets.filter((t) => t.scale === true) : [];
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
              `server CPU ${fanout.serverCpuPercent.toFixed(0)}% ` +
              `(${fanout.serverCpuUsPerMessage.toFixed(2)} µs/msg), ` +
              `load CPU ${fanout.loadCpuPercent.toFixed(0)}%`,
          );
        }
        const paced =
          has('fanout') && options.pace > 0 && target.paced !== false
            ? await measureFanout(target, options, files, options.pace)
            : null;
        if (paced) {
          progress(
            `round ${round} ${target.name} paced: ${Math.round(paced.sentPerSecond)} of ` +
              `${options.pace} msg/s sent, server CPU ${paced.serverCpuPercent.toFixed(0)}% ` +
              `(${paced.serverCpuUsPerMessage.toFixed(2)} µs/msg)`,
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
        result.rounds.push({ target: target.name, round, fanout, paced, idle });
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
    if (has('cluster') && targets.some((t) => t.name === 'stage9')) {
      await runCluster(options, files, result, progress);
    }
    // The scale scenario's rounds come last, and there are fewer of them: one
    // stage 6 round logs 10,000 users in, which takes minutes (see scale.ts).
    for (let round = 1; round <= options.scaleRounds && scaleTargets.length > 0; round++) {
      const order = round % 2 === 1 ? scaleTargets : [...scaleTargets].reverse();
      for (const target of order) {
        const m = await measureScale(target, options, files, round, progress);
        progress(
          `scale round ${round} ${target.name}: ${m.opened} idle, ` +
            `${m.rssPerConnectionKiB.toFixed(2)} KiB RSS each; chat p99 ` +
            `${m.quiet.p99Ms.toFixed(2)} ms quiet, ${m.crowded.p99Ms.toFixed(2)} ms crowded`,
        );
        result.scale.push(m);
      }
    }
  } finally {
    removeRunFiles(files);
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
