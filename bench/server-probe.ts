/**
 * Preloaded into every server under test (`node --require tsx/cjs --require
 * bench/server-probe.ts SERVER`), so the benchmark (and the soak, which uses
 * the same probe) can ask for the server's heap without the server's code
 * knowing about either.
 *
 * On `{ type: 'bench:memory' }` over the IPC channel it runs full garbage
 * collections (the server is started with `--expose-gc`) and answers with
 * `process.memoryUsage()`. Collecting first makes the idle-memory numbers
 * about live objects, not about garbage that happened to be uncollected.
 * It loads the same way for every target, so its small cost is in both sides
 * of every ratio.
 *
 * @module
 */

import { getHeapSpaceStatistics } from 'node:v8';
import { MEMORY_REQUEST, type MemoryReport } from './memory-report';

// One full collection frees garbage, but V8 hands freed pages back to the OS
// a step at a time over the following collections, so the probe runs several
// (and the benchmark repeats the reading until RSS stops moving).
const COLLECTIONS = 10;

if (process.send && process.channel) {
  process.on('message', (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== MEMORY_REQUEST) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < COLLECTIONS && gc; i++) gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    const youngGeneration = getHeapSpaceStatistics()
      .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
      .reduce((sum, s) => sum + s.space_size, 0);
    const report: MemoryReport = {
      type: MEMORY_REQUEST,
      rss,
      heapUsed,
      external,
      youngGeneration,
      gc: gc !== undefined,
    };
    process.send?.(report);
  });
  // The channel must not keep the server alive: it still exits on SIGTERM.
  process.channel.unref();
  // If the benchmark dies, its channel closes; do not leave the server running.
  process.once('disconnect', () => process.exit(0));
}
