// Given: the worker side of stage 3's "write the core" exercise. You write
// the pool (pool.ts, next to this file); you do not need to change this one.
//
// Every worker runs this file. It answers each message `{ id, task }` with
// `{ id, result }`, one task at a time: `result` is fib(task.n), with the id
// of the thread that computed it, so a check can see where the work ran.
import { isMainThread, parentPort, threadId, Worker } from 'node:worker_threads';

/** One unit of CPU work. */
export interface Task {
  /** Compute fib(n). */
  n: number;
  /**
   * Set only by the checks: shared memory through which they hold a task
   * inside its worker until they release it. Pass it along untouched.
   */
  gate?: Int32Array;
}

/** What a worker computed. */
export interface Result {
  /** The task's n. */
  n: number;
  /** fib(n). */
  fib: number;
  /** The thread that computed it (the main thread's id is 0). */
  threadId: number;
}

/** Pool to worker: run this task; quote its id in the answer. */
export interface ToWorker {
  /** Chosen by the pool, unique per task. */
  id: number;
  /** The task. */
  task: Task;
}

/** Worker to pool: the answer to the task with this id. */
export interface FromWorker {
  /** The id the task was sent with. */
  id: number;
  /** The answer. */
  result: Result;
}

/**
 * Starts one worker thread running this file. Listen to its 'message' event
 * for {@link FromWorker} answers; send it {@link ToWorker} messages with
 * `worker.postMessage(...)`; stop it with `worker.terminate()`.
 */
export function startWorker(): Worker {
  // Node 20 cannot run a .ts file in a worker by itself, so tsx's hook is
  // loaded first (in plain JavaScript: `new Worker(__filename)`).
  return new Worker(__filename, { execArgv: ['--require', require.resolve('tsx/cjs')] });
}

const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));

if (!isMainThread) {
  parentPort!.on('message', ({ id, task }: ToWorker) => {
    if (task.gate !== undefined) {
      Atomics.add(task.gate, 0, 1); // "started": the checks count these
      Atomics.notify(task.gate, 0);
      Atomics.wait(task.gate, 1, 0); // hold until the checks set slot 1
    }
    const answer: FromWorker = { id, result: { n: task.n, fib: fib(task.n), threadId } };
    parentPort!.postMessage(answer);
  });
}
