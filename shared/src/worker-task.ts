/**
 * The worker side of the worker pool, and the messages both sides exchange.
 *
 * Introduced by stage 3 together with `worker-pool.ts`; stage 6's bcrypt
 * worker uses it too. A worker script calls {@link serveTasks} once with a
 * function that does one task; this module answers the pool's messages with
 * that function's results.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { ChatError, ERROR_CODES, type ChatErrorCode } from './errors';

/** Pool to worker: run this task, and quote its id in the answer. */
export interface ToWorker<Task> {
  /** Which task this is; the answer carries the same id. */
  id: number;
  /** The handler's input. */
  task: Task;
}

/**
 * An error as it crosses between threads. `postMessage` copies data with the
 * structured clone algorithm, which keeps an error's message but drops its
 * class and its extra fields, so the code travels as plain data beside it.
 */
export interface WorkerError {
  /** The error's `code` property, if it had a string one. */
  code?: string;
  /** The error's message. */
  message: string;
}

/** Worker to pool: the script has loaded, or a task's outcome. */
export type FromWorker<Result> =
  | {
      /** The script loaded and called {@link serveTasks}: the worker can take tasks. */
      type: 'ready';
    }
  | {
      /** The script threw while loading (sent by the pool's bootstrap, not by serveTasks). */
      type: 'load-failed';
      /** The error's message. */
      message: string;
    }
  | {
      /** The handler returned. */
      type: 'done';
      /** The task's id. */
      id: number;
      /** What the handler returned. */
      result: Result;
    }
  | {
      /** The handler threw. */
      type: 'failed';
      /** The task's id. */
      id: number;
      /** What it threw. */
      error: WorkerError;
    };

/**
 * Rebuilds the error a worker's handler threw: a {@link ChatError} when the
 * code is one of ours, so callers can match on it; a plain Error otherwise.
 *
 * @param error - the error as it arrived from the worker
 * @returns an error to reject the task's promise with
 */
export function errorFromWorker(error: WorkerError): Error {
  const code = error.code;
  if (code !== undefined && Object.hasOwn(ERROR_CODES, code)) {
    return new ChatError(code as ChatErrorCode, error.message);
  }
  return new Error(error.message);
}

/**
 * Serves the pool's tasks: call it once, at the top level of a worker script,
 * with the function that does one task. Each task is answered with the
 * handler's result, or with the error it threw (a {@link ChatError} keeps its
 * code). The handler may be async, but the point of a worker is synchronous
 * CPU work that would block the main thread.
 *
 * @param handler - computes the result of one task
 * @throws Error if called outside a worker thread
 * @example
 * ```ts
 * // fib-worker.ts
 * serveTasks<{ n: number }, number>(({ n }) => fibonacci(n));
 * ```
 */
export function serveTasks<Task, Result>(handler: (task: Task) => Result | Promise<Result>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks() must run inside a worker thread');
  port.on('message', async ({ id, task }: ToWorker<Task>) => {
    let reply: FromWorker<Result>;
    try {
      reply = { type: 'done', id, result: await handler(task) };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const code: unknown = (error as { code?: unknown }).code;
      reply = {
        type: 'failed',
        id,
        error: { code: typeof code === 'string' ? code : undefined, message: error.message },
      };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      // The result could not be copied to the pool (a function, a socket…).
      const message = `result cannot be sent to the pool: ${(err as Error).message}`;
      port.postMessage({ type: 'failed', id, error: { message } } satisfies FromWorker<Result>);
    }
  });
  // Tells the pool the script loaded: a worker that dies before this was
  // killed by a broken script, not by a task. On the next turn, not now: the
  // script calling us has not finished loading yet, and if it throws below
  // this call the worker must die without ever having said "ready".
  const ready: FromWorker<Result> = { type: 'ready' };
  setImmediate(() => port.postMessage(ready));
}
