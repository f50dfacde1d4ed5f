/**
 * The one question the soak asks the server over IPC: "collect garbage, then
 * tell me your memory". memory-probe.ts answers it inside the server;
 * server-child.ts asks it.
 *
 * @module
 */

/** The question's `type`, and the answer's. */
export const MEMORY_REQUEST = 'soak:memory';

/** The answer: `process.memoryUsage()` after full collections, in bytes. */
export interface MemoryReading {
  /** Always {@link MEMORY_REQUEST}. */
  type: typeof MEMORY_REQUEST;
  /** Resident set size. */
  rss: number;
  /** Bytes used by live JavaScript objects: the number the soak's bound is about. */
  heapUsed: number;
  /** Bytes held outside the heap by C++ objects tied to JS ones (Buffers among them). */
  external: number;
  /** Whether a GC could be forced (the server was started with --expose-gc). */
  gc: boolean;
}

/** Bytes → MiB with one decimal, for the report. */
export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
