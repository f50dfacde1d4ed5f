/**
 * What the numbers were measured on, and the machine's limits on
 * connections: every connection costs a file descriptor on both sides and an
 * ephemeral port, so the limits are checked before the run.
 *
 * Node has no `setrlimit`, so the benchmark raises the open-file limit of the
 * processes it starts by running them through `sh -c 'ulimit -n N && exec
 * "$@"'`: `exec` keeps the process id the benchmark watches, and its IPC channel.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ChatError } from '../shared/src/errors';

/** A process's "Max open files" limits; null where unknown, Infinity for unlimited. */
export interface FileLimits {
  /** The limit in force (`ulimit -Sn`). */
  soft: number | null;
  /** The most the soft limit may be raised to without privilege (`ulimit -Hn`). */
  hard: number | null;
}

/** A number read from a /proc file, or null if the file or the pattern is missing. */
function procNumber(file: string, pattern: RegExp): number | null {
  try {
    const text = pattern.exec(readFileSync(file, 'utf8'))?.[1];
    return text === undefined ? null : text === 'unlimited' ? Infinity : Number(text);
  } catch {
    return null;
  }
}

/** Reads a process's open-file limits from /proc/PID/limits (Linux). */
export function fileLimits(pid: number | 'self' = 'self'): FileLimits {
  const file = `/proc/${pid}/limits`;
  return {
    soft: procNumber(file, /^Max open files\s+(\d+|unlimited)/m),
    hard: procNumber(file, /^Max open files\s+\S+\s+(\d+|unlimited)/m),
  };
}

/**
 * The soft limit the benchmark gives the processes it starts: the hard
 * limit, or for an "unlimited" one the kernel's per-process ceiling
 * (/proc/sys/fs/nr_open). Null if unknown.
 */
export function raisedLimit(limits: FileLimits = fileLimits()): number | null {
  if (limits.hard === null) return limits.soft;
  if (Number.isFinite(limits.hard)) return limits.hard;
  return procNumber('/proc/sys/fs/nr_open', /(\d+)/) ?? limits.soft;
}

/**
 * Wraps a command so that it starts with its soft open-file limit raised to
 * `limit`; unchanged when the inherited limit (`current`) is already high
 * enough or unknown.
 *
 * @returns the program and arguments to spawn instead
 */
export function withOpenFileLimit(
  command: string,
  args: readonly string[],
  limit: number | null = raisedLimit(),
  current: FileLimits = fileLimits(),
): { command: string; args: string[] } {
  if (limit === null || current.soft === null || current.soft >= limit) {
    return { command, args: [...args] };
  }
  // "$0" is the limit, "$@" the command: no quoting of the arguments is needed.
  const script = 'ulimit -n "$0" && exec "$@"';
  return { command: 'sh', args: ['-c', script, String(limit), command, ...args] };
}

/** The machine and runtime a run was measured on. */
export interface MachineInfo {
  /** CPU model name as the kernel reports it. */
  cpuModel: string;
  /** Logical cores available to this process. */
  cores: number;
  /** Node.js version, e.g. `v20.20.2`. */
  node: string;
  /** Operating system and kernel release. */
  os: string;
  /** Total memory in GiB. */
  memoryGiB: number;
  /** Soft limit on open files per process (`ulimit -n`), or null if unknown. */
  openFilesLimit: number | null;
  /** Hard limit on open files (`ulimit -Hn`), or null if unknown. */
  openFilesHardLimit: number | null;
  /** The soft limit the benchmark's processes start with ({@link raisedLimit}). */
  openFilesForBench: number | null;
  /**
   * The kernel's range of ephemeral ports (ip_local_port_range): it bounds
   * the connections from one address to one server port. Null if unknown.
   */
  localPortRange: [number, number] | null;
  /** When the run started, ISO 8601. */
  date: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const limits = fileLimits();
  const range = '/proc/sys/net/ipv4/ip_local_port_range';
  const low = procNumber(range, /^(\d+)/);
  const high = procNumber(range, /^\d+\s+(\d+)/);
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: limits.soft,
    openFilesHardLimit: limits.hard,
    openFilesForBench: raisedLimit(limits),
    localPortRange: low !== null && high !== null && high >= low ? [low, high] : null,
    date: new Date().toISOString(),
  };
}

/**
 * Checks that one process may hold `perProcess` sockets at the limit the
 * benchmark's processes get, and that the ephemeral ports leave room for
 * `fromOneAddress` connections from 127.0.0.1 to one server port (each with
 * room for the 100 files and ports Node and the system keep).
 *
 * @throws ChatError `BAD_ARGUMENT` naming the limit to raise
 */
export function checkLimits(
  machine: MachineInfo,
  perProcess: number,
  fromOneAddress: number,
): void {
  const files = machine.openFilesForBench;
  if (files !== null && files < perProcess + 100) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${perProcess} connections need about ${perProcess + 100} open files per process, but ` +
        `the hard limit (\`ulimit -Hn\`) is ${files}; raise it or lower --scale/--idle/--clients`,
    );
  }
  const range = machine.localPortRange;
  const ports = range === null ? Infinity : range[1] - range[0] + 1;
  if (ports < fromOneAddress + 100) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${fromOneAddress} connections from 127.0.0.1 need as many ephemeral ports, but ` +
        `ip_local_port_range ${range!.join('-')} has ${ports}; lower --scale`,
    );
  }
}
