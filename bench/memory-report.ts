/**
 * The one message the benchmark exchanges with a server under test over IPC:
 * "collect garbage, then tell me your memory usage". The server side lives in
 * server-probe.ts (preloaded into the server), the asking side in
 * server-process.ts.
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
}
