/**
 * A server under test, running as its own child process: started from its
 * entry file with `--port 0`, found through its `listening on HOST:PORT`
 * line, and observed from outside through /proc (VmRSS, CPU time), which
 * needs no help from the server, so the raw baseline and every stage are
 * measured the same way. The heap comes from server-probe.ts, preloaded.
 *
 * It runs as `node --expose-gc --require tsx/cjs --require
 * bench/server-probe.ts ENTRY`. `tsx/cjs` compiles TypeScript in the main
 * thread; `--import tsx` would also start a module-loader thread with its
 * own V8 heap, tens of MiB of RSS returned to the OS on its own schedule,
 * blurring a per-connection measurement of a few MiB in all.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './load-control';
import { fileLimits, withOpenFileLimit } from './machine';
import {
  MEMORY_REQUEST,
  STALL_REQUEST,
  type MemoryReport,
  type StallReport,
} from './memory-report';
import type { LoadEndpoint, Target } from './target';

/**
 * Clock ticks per second, the unit of CPU times in /proc/PID/stat: USER_HZ,
 * 100 on every architecture Node.js runs on.
 */
const TICKS_PER_SECOND = 100;

/** A running server under test. */
export interface ServerProcess {
  /** Where it listens. */
  readonly endpoint: LoadEndpoint;
  /** Its process id (also the wrapper's, which execs it or runs it in-process as valgrind does). */
  readonly pid: number;
  /** Resident memory (VmRSS) in KiB. */
  rssKiB(): number;
  /** CPU time (user + system, all threads) used so far, in seconds. */
  cpuSeconds(): number;
  /** Runs full GCs in the server and returns its memory usage (null if it did not answer). */
  memory(): Promise<MemoryReport | null>;
  /** The server's soft open-file limit (null if unknown). */
  openFilesLimit(): number | null;
  /**
   * Starts watching the main thread's event loop (`start`), or stops and
   * returns the worst delay of its timer in ms (`stop`; null: no answer).
   */
  stall(phase: 'start' | 'stop'): Promise<number | null>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Sends SIGKILL and waits for the exit. */
  kill(): Promise<void>;
}

/** A program the server runs under (e.g. valgrind), and how long it may take to start. */
export interface Wrapper {
  /** The program and its arguments, before `node` and the server's own; empty: none. */
  command: readonly string[];
  /** Seconds until the server must print its `listening on` line. */
  startSeconds: number;
}

/**
 * Starts a target's server on a free loopback port, its open-file limit
 * raised (a server holding 10,000 connections needs more than 1,024).
 *
 * @param env - environment variables to set (`undefined` removes one)
 * @param under - a program to run the server under (default: none, 30 s to start)
 * @returns the running server, once it printed its `listening on` line
 * @throws Error with the server's stderr if it exits or stays silent too long
 */
export async function launchServer(
  target: Target,
  serverArgs: readonly string[] = [],
  env: Record<string, string | undefined> = {},
  under: Wrapper = { command: [], startSeconds: 30 },
): Promise<ServerProcess> {
  const args = [
    ...['--expose-gc', '--require', 'tsx/cjs'],
    ...['--require', path.join(__dirname, 'server-probe.ts'), target.entryFile],
    ...['--host', '127.0.0.1', '--port', '0', ...serverArgs],
  ];
  const [program, ...programArgs] = [...under.command, process.execPath, ...args];
  const { command, args: wrapped } = withOpenFileLimit(program!, programArgs);
  const child = spawn(command, wrapped, {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Keep reading both pipes for the server's whole life: a server that logs
  // every connection would otherwise block once a pipe buffer fills up.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const endpoint = await new Promise<LoadEndpoint>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new Error(`${target.name} server ${why}\n${stderrTail}`));
    };
    const timer = setTimeout(
      () => fail(`printed no "listening on" line within ${under.startSeconds} s`),
      under.startSeconds * 1000,
    );
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /listening on (\S+):(\d+)\s*$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) });
    });
  });
  const pid = child.pid!;
  const exited = once(child, 'exit');
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill(signal);
    await exited;
    clearTimeout(killer);
  };
  return {
    endpoint,
    pid,
    rssKiB: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
    },
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the ")" that closes the command name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    },
    memory: () => askProbe<MemoryReport>(child, { type: MEMORY_REQUEST }),
    openFilesLimit: () => fileLimits(pid).soft,
    stall: async (phase) => {
      const question = { type: STALL_REQUEST, phase };
      if (phase === 'stop')
        return (await askProbe<StallReport>(child, question))?.maxStallMs ?? null;
      if (child.connected) child.send(question);
      return null;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** Asks the server's probe one question over IPC; null unless answered (same type) within 5 s. */
function askProbe<A extends { type: string }>(
  child: ChildProcess,
  question: { type: string; phase?: string },
): Promise<A | null> {
  return new Promise((resolve) => {
    if (!child.connected) return resolve(null);
    const timer = setTimeout(() => done(null), 5_000);
    const onMessage = (message: A) => {
      if (message?.type === question.type) done(message);
    };
    const done = (answer: A | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(question);
  });
}

/**
 * Runs `use` on a fresh server of `target` (see {@link launchServer}), then
 * stops it, or kills it (`end: 'kill'`: a server holding thousands of
 * connections, whose polite shutdown would announce every departure).
 */
export async function withServer<R>(
  target: Target,
  serverArgs: readonly string[] | undefined,
  use: (server: ServerProcess) => Promise<R>,
  end: 'stop' | 'kill' = 'stop',
): Promise<R> {
  const server = await launchServer(target, serverArgs);
  try {
    return await use(server);
  } finally {
    await server[end]();
  }
}

/** Measures servers' CPU between the marks of a measured period. */
export interface CpuMeter {
  /** Their CPU together between the marks, percent of one core (NaN until `end`). */
  percent: number;
  /** Seconds between the marks (NaN until `end`). */
  seconds: number;
  /** Call with `start` when the measured period begins and `end` when it ends. */
  mark(phase: 'start' | 'end'): void;
}

/** A meter of the servers' CPU time (all threads, from /proc) over a period the load process marks. */
export function cpuMeter(...servers: ServerProcess[]): CpuMeter {
  const cpu = () => servers.reduce((sum, server) => sum + server.cpuSeconds(), 0);
  let cpuAtStart = 0;
  let startedAt = 0;
  const meter: CpuMeter = {
    percent: NaN,
    seconds: NaN,
    mark: (phase) => {
      if (phase === 'start') {
        cpuAtStart = cpu();
        startedAt = performance.now();
      } else {
        meter.seconds = (performance.now() - startedAt) / 1000;
        meter.percent = ((cpu() - cpuAtStart) / meter.seconds) * 100;
      }
    },
  };
  return meter;
}

/** A memory reading that has stopped moving; see {@link settledMemory}. */
export interface SettledMemory {
  /** VmRSS in KiB, minus V8's empty young generation when the probe answered. */
  rssKiB: number;
  /** The JavaScript heap in use after full GCs, bytes (null: no answer). */
  heapUsed: number | null;
}

/** What `count` connections cost, from two settled readings around them. */
export interface PerConnection {
  /** The first reading's RSS, KiB. */
  baselineRssKiB: number;
  /** RSS growth per connection, KiB. */
  rssPerConnectionKiB: number;
  /** Heap growth per connection, KiB (null if the probe did not answer). */
  heapPerConnectionKiB: number | null;
}

/** Divides the growth between two settled readings by the connections opened between them. */
export function perConnection(
  before: SettledMemory,
  after: SettledMemory,
  count: number,
): PerConnection {
  const heap =
    before.heapUsed !== null && after.heapUsed !== null
      ? (after.heapUsed - before.heapUsed) / count / 1024
      : null;
  return {
    baselineRssKiB: before.rssKiB,
    rssPerConnectionKiB: (after.rssKiB - before.rssKiB) / count,
    heapPerConnectionKiB: heap,
  };
}

/**
 * Collects garbage in the server and reads its RSS until two readings half a
 * second apart agree within 64 KiB (at most 8 tries): right after a burst of
 * work, RSS still counts memory V8 has freed but not returned to the OS.
 * V8's young generation is subtracted: after a busy period it stays up to
 * 32 MiB resident but empty, returned seconds later, so a reading after
 * 10,000 logins would otherwise differ from one after a quiet minute by
 * more than the connections cost.
 */
export async function settledMemory(server: ServerProcess): Promise<SettledMemory> {
  let previous = NaN;
  let report: MemoryReport | null = null;
  for (let attempt = 0; attempt < 8; attempt++) {
    await sleep(500);
    report = await server.memory();
    const rss = server.rssKiB() - (report?.youngGeneration ?? 0) / 1024;
    if (Math.abs(rss - previous) <= 64) return { rssKiB: rss, heapUsed: report?.heapUsed ?? null };
    previous = rss;
  }
  return { rssKiB: previous, heapUsed: report?.heapUsed ?? null };
}
