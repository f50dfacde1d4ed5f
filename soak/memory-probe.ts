/**
 * Preloaded into the server under test (`node --expose-gc --require tsx/cjs
 * --require soak/memory-probe.ts SERVER`), so the soak can ask the server for
 * its memory without the server's code knowing about the soak.
 *
 * On `{ type: 'soak:memory' }` over the IPC channel it runs full garbage
 * collections and answers with `process.memoryUsage()`. Collecting first makes
 * the numbers about live objects: a leak is memory that survives a full GC.
 * (The same idea as bench/server-probe.ts, kept separate so the soak does not
 * depend on the benchmark's internals.)
 *
 * @module
 */
import { MEMORY_REQUEST, type MemoryReading } from './memory-reading';

// One full collection frees garbage; a few more let V8 also release what the
// first one only marked (weak references, finalizers) before we read.
const COLLECTIONS = 5;

if (process.send && process.channel) {
  process.on('message', (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== MEMORY_REQUEST) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < COLLECTIONS && gc; i++) gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    const reading: MemoryReading = { type: MEMORY_REQUEST, rss, heapUsed, external, gc: !!gc };
    process.send?.(reading);
  });
  // The channel must not keep the server alive: it still exits on SIGTERM.
  process.channel.unref();
  // If the soak dies, its channel closes: do not leave the server running.
  process.once('disconnect', () => process.exit(0));
}
