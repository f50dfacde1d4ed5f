/**
 * The questions the benchmark asks a server under test over IPC, and their
 * answers. The server side lives in server-probe.ts (preloaded into the
 * server), the asking side in server-process.ts and soak/server-child.ts.
 *
 * @module
 */

/** The question's `type`, and the answer's. */
export const MEMORY_REQUEST = 'bench:memory';

/** The answer: `process.memoryUsage()` after a full collection, in bytes. */
export interface MemoryReport {
  /** Always {@link MEMORY_REQUEST}. */
  type: typeof MEMORY_REQUEST;
  /** Resident set size as Node sees it. */
  rss: number;
  /** Bytes used by JavaScript objects. */
  heapUsed: number;
  /** Bytes held outside the JavaScript heap by C++ objects tied to JS ones (Buffers among them). */
  external: number;
  /**
   * Bytes V8 has reserved for its young generation, empty right after a full
   * GC but still resident (about 1 to 32 MiB, sized by the recent allocation
   * rate): the benchmark subtracts it from RSS (see settledMemory).
   */
  youngGeneration: number;
  /** Whether a GC could be forced (the server was started with `--expose-gc`). */
  gc: boolean;
}

/**
 * The other question: "watch your event loop from now" (`phase: 'start'`),
 * then "how late was your timer at worst?" (`phase: 'stop'`, answered with a
 * {@link StallReport}): the worst gap between two ticks, minus the tick, is
 * how long the main thread was busy (worker threads do not count).
 */
export const STALL_REQUEST = 'bench:stall';

/** How often the stall probe's timer ticks, in milliseconds. */
export const STALL_TICK_MS = 5;

/** The answer to a stall `stop`. */
export interface StallReport {
  /** Always {@link STALL_REQUEST}. */
  type: typeof STALL_REQUEST;
  /** The worst delay of the probe's timer while it ran, in milliseconds. */
  maxStallMs: number;
}
