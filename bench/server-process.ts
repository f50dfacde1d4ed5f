/**
 * A server under test, running as its own child process: started from its
 * entry file with `--port 0`, found through its `listening on HOST:PORT` line,
 * and observed from outside through /proc.
 *
 * It runs as `node --expose-gc --require tsx/cjs --require bench/server-probe.ts
 * ENTRY`. `tsx/cjs` compiles TypeScript inside the main thread; the usual
 * `--import tsx` also starts a module-loader thread with its own V8 heap,
 * which adds tens of MiB of RSS and returns memory to the OS on its own
 * schedule, blurring a per-connection measurement that is only a few MiB in all.
 *
 * Reading /proc/PID/status (VmRSS) and /proc/PID/stat (CPU time) needs no
 * help from the server, so the raw baseline and every stage are measured the
 * same way. The heap numbers come from server-probe.ts, preloaded into both.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './load-control';
import {
  MEMORY_REQUEST,
  STALL_REQUEST,
  type MemoryReport,
  type StallReport,
} from './memory-report';
import { fileLimits, withOpenFileLimit } from './open-files';
import type { LoadEndpoint, Target } from './target';

/** Clock ticks per second, the unit of CPU times in /proc/PID/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A running server under test. */
export interface ServerProcess {
  /** The server's process id. */
  readonly pid: number;
  /** Where it listens. */
  readonly endpoint: LoadEndpoint;
  /** Resident memory (VmRSS) in KiB, read from /proc. */
  rssKiB(): number;
  /** CPU time (user + system) used so far, in seconds, read from /proc. */
  cpuSeconds(): number;
  /** Runs a full GC in the server and returns its memory usage (null if it did not answer). */
  memory(): Promise<MemoryReport | null>;
  /** The server's soft open-file limit, as the kernel reports it (null if unknown). */
  openFilesLimit(): number | null;
  /**
   * Starts watching the server's main-thread event loop (`start`), or stops
   * and returns the worst delay of its timer in milliseconds (`stop`; null
   * if the probe did not answer).
   */
  stall(phase: 'start' | 'stop'): Promise<number | null>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /**
   * Sends SIGKILL and waits for the exit. For a server holding thousands of
   * connections once the measurement is over: a polite shutdown would announce
   * every departure to everyone still there, thousands of times over.
   */
  kill(): Promise<void>;
}

/**
 * Starts a target's server on a free loopback port.
 *
 * @param target - what to start
 * @param serverArgs - arguments after `--port 0` (usually `target.serverArgs(files)`)
 * @param env - environment variables to set (a value of `undefined` removes one)
 * @returns the running server, once it printed its `listening on` line
 * @throws Error with the server's stderr if it exits or stays silent for 30 s
 */
export async function launchServer(
  target: Target,
  serverArgs: readonly string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<ServerProcess> {
  const args = [
    '--expose-gc', // lets server-probe.ts collect garbage before a memory reading
    '--require',
    'tsx/cjs',
    '--require',
    path.join(__dirname, 'server-probe.ts'),
    target.entryFile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    ...serverArgs,
  ];
  // Raised to the hard limit: a server holding 10,000 connections needs more
  // than a common soft limit of 1,024 file descriptors.
  const { command, args: wrapped } = withOpenFileLimit(process.execPath, args);
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
    const timer = setTimeout(() => fail('printed no "listening on" line within 30 s'), 30_000);
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /listening on (\S+):(\d+)\s*$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) });
    });
  });
  return observe(child, endpoint);
}

function observe(child: ChildProcess, endpoint: LoadEndpoint): ServerProcess {
  const pid = child.pid!;
  const exited = once(child, 'exit');
  return {
    pid,
    endpoint,
    rssKiB: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
    },
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the ")" that closes the command name: state is the first,
      // utime (field 14 of the man page) the 12th and stime the 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    memory: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => done(null), 5_000);
        const onMessage = (message: MemoryReport) => {
          if (message?.type === MEMORY_REQUEST) done(message);
        };
        const done = (report: MemoryReport | null) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(report);
        };
        child.on('message', onMessage);
        if (child.connected) child.send({ type: MEMORY_REQUEST });
      }),
    openFilesLimit: () => fileLimits(pid).soft,
    stall: (phase) =>
      new Promise((resolve) => {
        if (!child.connected) return resolve(null);
        child.send({ type: STALL_REQUEST, phase });
        if (phase === 'start') return resolve(null);
        const timer = setTimeout(() => done(null), 5_000);
        const onMessage = (message: StallReport) => {
          if (message?.type === STALL_REQUEST) done(message.maxStallMs);
        };
        const done = (ms: number | null) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(ms);
        };
        child.on('message', onMessage);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Measures a server's CPU use between two marks; see {@link cpuMeter}. */
export interface CpuMeter {
  /** The CPU used between the marks, in percent of one core (NaN until `end`). */
  percent: number;
  /** Call with `start` when the measured period begins and `end` when it ends. */
  mark(phase: 'start' | 'end'): void;
}

/**
 * A meter of the server's CPU time (all its threads, from /proc) over a
 * period the load process marks.
 *
 * @param server - the server to watch
 */
export function cpuMeter(server: ServerProcess): CpuMeter {
  let cpuAtStart = 0;
  let startedAt = 0;
  const meter: CpuMeter = {
    percent: NaN,
    mark: (phase) => {
      if (phase === 'start') {
        cpuAtStart = server.cpuSeconds();
        startedAt = performance.now();
      } else {
        const elapsed = (performance.now() - startedAt) / 1000;
        meter.percent = ((server.cpuSeconds() - cpuAtStart) / elapsed) * 100;
      }
    },
  };
  return meter;
}

/** A memory reading that has stopped moving; see {@link settledMemory}. */
export interface SettledMemory {
  /**
   * The server's VmRSS in KiB, minus V8's empty young generation when the
   * probe answered (see {@link MemoryReport.youngGeneration}).
   */
  rssKiB: number;
  /** Its JavaScript heap in use after full GCs, in bytes (null if the probe did not answer). */
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

/**
 * Divides the growth between two settled readings by the connections opened between them.
 *
 * @param before - the reading before the connections
 * @param after - the reading with them open
 * @param count - how many connections
 */
export function perConnection(
  before: SettledMemory,
  after: SettledMemory,
  count: number,
): PerConnection {
  return {
    baselineRssKiB: before.rssKiB,
    rssPerConnectionKiB: (after.rssKiB - before.rssKiB) / count,
    heapPerConnectionKiB:
      before.heapUsed !== null && after.heapUsed !== null
        ? (after.heapUsed - before.heapUsed) / count / 1024
        : null,
  };
}

/**
 * Collects garbage in the server and reads its RSS until two readings half a
 * second apart agree within 64 KiB (at most 8 tries). A single reading right
 * after a burst of work (start-up, 1,000 logins or joins) still counts
 * garbage that V8 has freed but not yet returned to the OS; the per-connection
 * signal is only a few MiB, so that noise would swamp it.
 *
 * The young generation is left out of the reading. After a busy period V8
 * keeps up to 32 MiB reserved for it, resident but empty after the GC, and
 * returns it only several seconds after the work stops (its "memory reducer"):
 * without the subtraction a reading taken after 10,000 logins and one taken
 * after a quiet minute would differ by more than the connections cost.
 *
 * @param server - the server to read
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
