/**
 * Preloaded into every server under test (`node --require tsx/cjs --require
 * bench/server-probe.ts SERVER`), so the benchmark and the soak can ask for
 * the server's memory without the server's code knowing about either. It
 * answers the questions of memory-report.ts over the IPC channel; collecting
 * garbage first makes the memory figures about live objects. It loads the
 * same way for every target, so its small cost is in both sides of every ratio.
 *
 * @module
 */

import { getHeapSpaceStatistics } from 'node:v8';
import {
  MEMORY_REQUEST,
  STALL_REQUEST,
  STALL_TICK_MS,
  type MemoryReport,
  type StallReport,
} from './memory-report';

// One full collection frees garbage, but V8 hands freed pages back to the OS
// a step at a time over the following collections, so the probe runs several
// (and the benchmark repeats the reading until RSS stops moving).
const COLLECTIONS = 10;

let stallTimer: NodeJS.Timeout | undefined;
let maxStallMs = 0;

function onStall(phase: unknown): void {
  if (phase === 'start') {
    clearInterval(stallTimer);
    maxStallMs = 0;
    let last = performance.now();
    stallTimer = setInterval(() => {
      const now = performance.now();
      maxStallMs = Math.max(maxStallMs, now - last - STALL_TICK_MS);
      last = now;
    }, STALL_TICK_MS);
    stallTimer.unref();
    return;
  }
  clearInterval(stallTimer);
  stallTimer = undefined;
  const report: StallReport = { type: STALL_REQUEST, maxStallMs };
  process.send?.(report);
}

if (process.send && process.channel) {
  process.on('message', (message: unknown) => {
    const { type, phase } = (message ?? {}) as { type?: unknown; phase?: unknown };
    if (type === STALL_REQUEST) return onStall(phase);
    if (type !== MEMORY_REQUEST) return;
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
