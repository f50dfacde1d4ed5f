/**
 * The CPU-bound work of stage 3, as a worker-thread script.
 *
 * The worker pool (`shared/src/worker-pool.ts`) starts one copy of this file per worker. Each task is
 * one bcrypt hash computed with bcryptjs's *synchronous* `hashSync`: inside a
 * worker, blocking is exactly what we want, because this thread has nothing
 * else to serve; the main thread's event loop keeps answering clients on
 * another core meanwhile.
 *
 * @module
 */
import bcrypt from 'bcryptjs';
import { isMainThread } from 'node:worker_threads';
import { serveTasks } from '../../shared/src/worker-task';

/** One unit of work: hash this password at this cost. */
export interface HashTask {
  /** The password; it never leaves memory and is never logged. */
  password: string;
  /** bcrypt cost: the hash runs 2^cost rounds of its key schedule. */
  cost: number;
}

/**
 * Computes one hash. The same function runs on the event loop in blocking
 * mode and in a worker in pool mode: only *where* it runs changes.
 *
 * @param task - the password and cost
 * @returns a bcrypt hash string such as `$2b$10$…`
 */
export function hashTask(task: HashTask): string {
  return bcrypt.hashSync(task.password, task.cost);
}

// Only when loaded as a worker: the server imports this file for its types
// and for hashTask, and must not start answering tasks on the main thread.
if (!isMainThread) {
  serveTasks<HashTask, string>(hashTask);
}
