/**
 * The one message the benchmark exchanges with a server under test over IPC:
 * "collect garbage, then tell me your memory usage". The server side lives in
 * server-probe.ts (preloaded into the server), the asking side in
 * server-process.ts (and, for the soak, soak/server-child.ts).
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
   * Bytes V8 has reserved for its young generation (new space and new large
   * object space), empty right after a full GC but still resident. V8 sizes it
   * from the recent allocation rate (about 1 to 32 MiB) and gives it back
   * seconds later, on its own schedule; the benchmark subtracts it from RSS so
   * that a reading does not depend on how busy the server was just before.
   */
  youngGeneration: number;
  /** Whether a GC could be forced (the server was started with `--expose-gc`). */
  gc: boolean;
}
