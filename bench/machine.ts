/**
 * What the numbers were measured on, and the machine's limits on
 * connections. The report prints the CPU, cores and Node version next to
 * every table; the limits are checked before the run, since every
 * connection costs a file descriptor on both sides and an ephemeral port.
 *
 * A process may raise its own soft open-file limit up to its hard limit
 * without privilege, but Node has no `setrlimit`. So the benchmark raises
 * the limit of the processes it starts: it runs them through util-linux's
 * `prlimit --nofile=N:N COMMAND…` (or `sh -c 'ulimit -n N && exec "$@"'`).
 * Both `exec` the command, so the process id the benchmark watches is the
 * Node process itself, and its IPC channel survives.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
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

/** Reads a process's open-file limits from /proc/PID/limits (Linux). */
export function fileLimits(pid: number | 'self' = 'self'): FileLimits {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
    const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
    return match ? { soft: value(match[1]!), hard: value(match[2]!) } : { soft: null, hard: null };
  } catch {
    return { soft: null, hard: null };
  }
}

/**
 * The soft limit the benchmark gives the processes it starts: the hard
 * limit, or for an "unlimited" one the kernel's per-process ceiling
 * (/proc/sys/fs/nr_open). Null if unknown.
 */
export function raisedLimit(limits: FileLimits = fileLimits()): number | null {
  if (limits.hard === null) return limits.soft;
  if (Number.isFinite(limits.hard)) return limits.hard;
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
  } catch {
    return limits.soft;
  }
}

let hasPrlimit: boolean | undefined;

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
  if (hasPrlimit === undefined) {
    try {
      execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
      hasPrlimit = true;
    } catch {
      hasPrlimit = false;
    }
  }
  if (hasPrlimit) {
    return { command: 'prlimit', args: [`--nofile=${limit}:${limit}`, command, ...args] };
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
   * The kernel's range of ephemeral ports (ip_local_port_range): every load
   * connection takes one, so it bounds the connections from one address to
   * one server port. Null if unknown.
   */
  localPortRange: [number, number] | null;
  /** When the run started, ISO 8601. */
  date: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const limits = fileLimits();
  let localPortRange: [number, number] | null = null;
  try {
    const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [low, high] = text.trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && high >= low) localPortRange = [low, high];
  } catch {
    // unknown
  }
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: limits.soft,
    openFilesHardLimit: limits.hard,
    openFilesForBench: raisedLimit(limits),
    localPortRange,
    date: new Date().toISOString(),
  };
}

/**
 * Checks that one process may hold `connections` sockets (plus room for the
 * files Node keeps open) at the limit the benchmark's processes get.
 *
 * @throws ChatError `BAD_ARGUMENT` naming the `ulimit -Hn` needed
 */
export function checkOpenFiles(machine: MachineInfo, connections: number): void {
  const needed = connections + 100;
  const limit = machine.openFilesForBench;
  if (limit !== null && limit < needed) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${connections} connections need about ${needed} open files per process, but the ` +
        `hard limit (\`ulimit -Hn\`) is ${limit}; raise it or lower --scale/--idle/--clients`,
    );
  }
}

/**
 * Checks that the ephemeral port range leaves room for `connections` from
 * 127.0.0.1 to one server port.
 *
 * @throws ChatError `BAD_ARGUMENT` naming the range
 */
export function checkPortRange(machine: MachineInfo, connections: number): void {
  const range = machine.localPortRange;
  if (range === null) return;
  const ports = range[1] - range[0] + 1;
  if (ports < connections + 100) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${connections} connections from 127.0.0.1 need as many ephemeral ports, but ` +
        `ip_local_port_range ${range[0]}-${range[1]} has ${ports}; lower --scale`,
    );
  }
}
