// Write the core of stage 3: a worker pool that dispatches CPU work to a
// fixed set of worker threads, with a bounded queue.
//
//   npm run exercise -- stage3/core     checks this file with real worker threads
//
// The task: write the Pool class below.
// 1. new Pool({ size, maxQueue }) starts `size` workers, once, up front,
//    with startWorker() from ./fib-worker (given: read it first). Starting a
//    thread costs milliseconds and megabytes: never start one per task.
// 2. run(task) hands the task to an idle worker at once. When every worker
//    is busy, the task waits in a queue, and the oldest waiting task goes to
//    the next worker that finishes.
// 3. The queue is bounded: when `size` tasks are running and `maxQueue` are
//    waiting, run() rejects at once with new ChatError('SERVICE_UNAVAILABLE', ...).
//    A flood of work then gets a fast "no", instead of growing memory and
//    waiting times without limit.
// 4. Each answer goes to the task that asked for it, even when a later task
//    finishes first: send each task with an id, and match the answer's id.
// 5. close() terminates every worker (worker.terminate()). Tasks still
//    running or waiting reject with new ChatError('SHUTTING_DOWN', ...), and
//    so does every run() after close().
//
// The course's pool, shared/src/worker-pool.ts, does all this and more (a
// worker that crashes is replaced): read it when you are done. The reference
// solution is exercises/solutions/stage3/core.patch: try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import type { Worker } from 'node:worker_threads';
import { ChatError } from '../../../shared/src/errors';
import { startWorker, type FromWorker, type Result, type Task, type ToWorker } from './fib-worker';

/** How big the pool is. */
export interface PoolOptions {
  /** How many workers run tasks at the same time. */
  size: number;
  /** How many tasks may wait for a worker before run() refuses new ones. */
  maxQueue: number;
}

/** A fixed set of worker threads, and a bounded queue of tasks waiting for them. */
export class Pool {
  /** @param options - the pool size and the queue bound */
  constructor(options: PoolOptions) {
    throw new Error('Pool is not written yet');
  }

  /**
   * Runs one task in a worker: at once if one is free, else after the tasks
   * queued before it.
   *
   * @returns the worker's answer to this task
   * @throws ChatError `SERVICE_UNAVAILABLE` (a rejected promise, at once) when the queue is full;
   *   `SHUTTING_DOWN` after close()
   */
  run(task: Task): Promise<Result> {
    throw new Error('run is not written yet');
  }

  /** Terminates every worker; what was running or waiting rejects with `SHUTTING_DOWN`. */
  async close(): Promise<void> {
    throw new Error('close is not written yet');
  }
}
