/**
 * What the numbers were measured on. Benchmark results mean little without
 * the machine: the report prints the CPU, the core count and the Node version
 * next to every table, and the open-file limit is checked before the run,
 * since every connection costs a file descriptor on both sides.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ChatError } from '../shared/src/errors';

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
  /** Soft limit on open file descriptors per process (`ulimit -n`), or null if unknown. */
  openFilesLimit: number | null;
  /** When the run started, ISO 8601. */
  date: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: openFilesLimit(),
    date: new Date().toISOString(),
  };
}

/** Reads the soft "Max open files" limit from /proc/self/limits (Linux). */
function openFilesLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return null;
    return match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return null;
  }
}

/**
 * Checks that one process may open `connections` sockets, with room to spare
 * for the files Node itself keeps open.
 *
 * @param machine - from {@link machineInfo}
 * @param connections - the most sockets one process (server or load) will hold
 * @throws ChatError `BAD_ARGUMENT` naming the `ulimit -n` needed
 */
export function checkOpenFiles(machine: MachineInfo, connections: number): void {
  const needed = connections + 100;
  if (machine.openFilesLimit !== null && machine.openFilesLimit < needed) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${connections} connections need about ${needed} open files per process, ` +
        `but \`ulimit -n\` is ${machine.openFilesLimit}; raise it or lower --idle/--clients`,
    );
  }
}
