/**
 * What the numbers were measured on. Benchmark results mean little without
 * the machine: the report prints the CPU, the core count and the Node version
 * next to every table, and the open-file limit is checked before the run,
 * since every connection costs a file descriptor on both sides.
 *
 * @module
 */
import os from 'node:os';
import { ChatError } from '../shared/src/errors';
import { fileLimits, localPortRange, raisedLimit } from './open-files';

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
  /** Hard limit on open file descriptors (`ulimit -Hn`), or null if unknown. */
  openFilesHardLimit: number | null;
  /**
   * The soft limit the benchmark's server and load processes start with: raised
   * to the hard limit (see open-files.ts). Null if unknown.
   */
  openFilesForBench: number | null;
  /** The kernel's range of ephemeral ports for outgoing connections, or null if unknown. */
  localPortRange: [number, number] | null;
  /** When the run started, ISO 8601. */
  date: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const limits = fileLimits();
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: limits.soft,
    openFilesHardLimit: limits.hard,
    openFilesForBench: raisedLimit(limits),
    localPortRange: localPortRange(),
    date: new Date().toISOString(),
  };
}

/**
 * Checks that one process may open `connections` sockets, with room to spare
 * for the files Node itself keeps open. The limit that counts is the one the
 * benchmark's processes get: the hard limit (see open-files.ts).
 *
 * @param machine - from {@link machineInfo}
 * @param connections - the most sockets one process (server or load) will hold
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
 * Checks that the kernel's ephemeral port range leaves room for `connections`
 * outgoing connections from one source address (127.0.0.1) to one server port.
 *
 * @param machine - from {@link machineInfo}
 * @param connections - connections the load processes open to one server at once
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
