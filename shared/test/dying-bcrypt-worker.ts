/**
 * A bcrypt worker for fault tests: it does the real bcrypt work for every
 * task, except that a password starting with {@link DIE_WHILE_HASHING} makes
 * it die in the middle of the task, as a worker killed by the system (out of
 * memory, a crash in native code) would. The pool and everything above it run
 * unchanged: only the thread's death is staged.
 *
 * It calls bcryptjs itself rather than importing `bcrypt-worker.ts`, because
 * importing that module inside a worker thread starts its own task handler.
 */
import bcrypt from 'bcryptjs';
import { isMainThread } from 'node:worker_threads';
import type { BcryptResult, BcryptTask } from '../src/bcrypt-worker';
import { serveTasks } from '../src/worker-task';

/** A password that begins with this kills the worker running its task. */
export const DIE_WHILE_HASHING = 'die-while-hashing:';

/** How the worker dies: `exit` (the thread ends) or `crash` (an uncaught exception). */
export type DeathKind = 'exit' | 'crash';

if (!isMainThread) {
  serveTasks<BcryptTask, BcryptResult>((task) => {
    if (task.password.startsWith(DIE_WHILE_HASHING)) {
      const kind = task.password.slice(DIE_WHILE_HASHING.length) as DeathKind;
      if (kind === 'crash') {
        // Thrown outside the task handler, so nothing catches it: the thread dies.
        setImmediate(() => {
          throw new Error('simulated crash in a hashing worker');
        });
        return new Promise<BcryptResult>(() => {});
      }
      bcrypt.hashSync(task.password, 4); // some real work first: it dies mid-task
      process.exit(70);
    }
    return task.op === 'hash'
      ? bcrypt.hashSync(task.password, task.cost)
      : bcrypt.compareSync(task.password, task.hash);
  });
}
