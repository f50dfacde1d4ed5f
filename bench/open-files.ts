/**
 * The open-file limit, which decides how many connections one process can
 * hold: every socket is a file descriptor, on the server's side and again on
 * the load generator's.
 *
 * A process may raise its own soft limit up to its hard limit without any
 * privilege, but Node has no `setrlimit`. So the benchmark raises the limit
 * of the processes it starts instead: it runs them through util-linux's
 * `prlimit --nofile=HARD:HARD COMMAND…` (or, where `prlimit` is missing, through
 * `sh -c 'ulimit -n HARD && exec "$@"'`). Both replace themselves with the
 * command (`exec`), so the process id the benchmark watches is the Node
 * process itself, and its IPC channel survives.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process's "Max open files" limits; null where unknown, Infinity for unlimited. */
export interface FileLimits {
  /** The limit in force (`ulimit -Sn`). */
  soft: number | null;
  /** The most the soft limit may be raised to without privilege (`ulimit -Hn`). */
  hard: number | null;
}

/**
 * Reads a process's open-file limits from /proc/PID/limits (Linux).
 *
 * @param pid - a process id, or `self`
 */
export function fileLimits(pid: number | 'self' = 'self'): FileLimits {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return { soft: null, hard: null };
    const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
    return { soft: value(match[1]!), hard: value(match[2]!) };
  } catch {
    return { soft: null, hard: null };
  }
}

/**
 * The soft limit the benchmark gives the processes it starts: the hard
 * limit, except that an "unlimited" hard limit still stops at the kernel's
 * per-process ceiling (/proc/sys/fs/nr_open). Null if the limits are unknown.
 *
 * @param limits - this process's limits
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

/** True if util-linux's `prlimit` can be run (checked once). */
function prlimitAvailable(): boolean {
  if (hasPrlimit === undefined) {
    try {
      execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
      hasPrlimit = true;
    } catch {
      hasPrlimit = false;
    }
  }
  return hasPrlimit;
}

/**
 * Wraps a command so that it starts with its soft open-file limit raised to
 * `limit`. When the current soft limit is already at least `limit`, or the
 * limit is unknown, the command is returned unchanged.
 *
 * @param command - the program, e.g. `process.execPath`
 * @param args - its arguments
 * @param limit - the soft limit wanted (at most the hard limit)
 * @param current - the limits the child would inherit (this process's, by default)
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
  if (prlimitAvailable()) {
    return { command: 'prlimit', args: [`--nofile=${limit}:${limit}`, command, ...args] };
  }
  // "$0" is the limit, "$@" the command: no quoting of the arguments is needed.
  const script = 'ulimit -n "$0" && exec "$@"';
  return { command: 'sh', args: ['-c', script, String(limit), command, ...args] };
}

/**
 * The range of local ports the kernel picks from for outgoing connections
 * (/proc/sys/net/ipv4/ip_local_port_range). Every connection from the load
 * generator takes one, so it bounds how many connections one source address
 * can open to one server port. Null if unknown.
 */
export function localPortRange(): [number, number] | null {
  try {
    const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [low, high] = text.trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && high >= low ? [low, high] : null;
  } catch {
    return null;
  }
}
