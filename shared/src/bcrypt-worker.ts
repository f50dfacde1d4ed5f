/**
 * The worker-thread side of password hashing: runs bcrypt where it cannot
 * stall the chat.
 *
 * Introduced by stage 6. The password module's pool starts a few worker
 * threads on this script. Each task is one bcrypt hash or one comparison,
 * done with bcryptjs's *synchronous* functions: inside a worker that is what
 * we want, since the worker has nothing else to do, and the main thread's
 * event loop keeps relaying chat on another core meanwhile. (bcryptjs's async
 * functions on the main thread would not be enough: they only yield every
 * 100 ms, which is a 100 ms hiccup for every chat message in flight.)
 *
 * @module
 */
import bcrypt from 'bcryptjs';
import { isMainThread } from 'node:worker_threads';
import { serveTasks } from './worker-task';

/** One unit of work for a bcrypt worker. */
export type BcryptTask =
  | {
      /** Hash a new password with a fresh random salt. */
      op: 'hash';
      /** The password (already checked against the password policy). */
      password: string;
      /** The bcrypt cost: 2^cost rounds of the key schedule. */
      cost: number;
    }
  | {
      /** Compare a password with a stored hash. */
      op: 'compare';
      /** The password a client sent. */
      password: string;
      /** The stored bcrypt hash (its cost and salt are inside it). */
      hash: string;
    };

/** A hash (for `op: 'hash'`) or whether the password matched (for `op: 'compare'`). */
export type BcryptResult = string | boolean;

/**
 * Does one task. Exported so the logic can be read (and unit-tested) apart
 * from the worker plumbing.
 *
 * @param task - what to compute
 * @returns the new hash, or whether the password matches
 */
export function runBcryptTask(task: BcryptTask): BcryptResult {
  return task.op === 'hash'
    ? bcrypt.hashSync(task.password, task.cost)
    : bcrypt.compareSync(task.password, task.hash);
}

// Only when loaded as a worker: the main thread may import this file for its types.
if (!isMainThread) {
  serveTasks<BcryptTask, BcryptResult>(runBcryptTask);
}
