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
      /**
       * The server's cost now. A stored hash made at a lower cost is compared,
       * then padded with the rounds it lacks (see {@link paddingCosts}), so
       * the job takes as long as a comparison at this cost would.
       */
      padToCost?: number;
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
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.cost);
  const matched = bcrypt.compareSync(task.password, task.hash);
  if (task.padToCost !== undefined) {
    // The padding's hashes are thrown away: only the time they take matters.
    for (const cost of paddingCosts(bcrypt.getRounds(task.hash), task.padToCost)) {
      bcrypt.hashSync(task.password, cost);
    }
  }
  return matched;
}

/**
 * The costs of the hashes that pad a comparison at `storedCost` up to the
 * work of one at `targetCost`: `storedCost`, `storedCost + 1`, …,
 * `targetCost - 1`.
 *
 * Why: an unknown name is compared with a dummy hash at the server's cost,
 * a registered one with its stored hash. After the cost is raised, an
 * account made before costs less to check, and the quick answer would tell
 * an attacker that the name exists. A hash at cost c runs 2^c rounds of the
 * key schedule, and 2^s + (2^s + 2^(s+1) + … + 2^(t-1)) = 2^t, so the
 * comparison plus these hashes run exactly as many rounds as one comparison
 * at the target cost. (Rehashing at login, the appendix's "further idea",
 * would end the padding for that account; this keeps the answer honest
 * until then.) A stored cost that is not readable (NaN: a damaged hash,
 * which simply never matches) gets no padding. Nor does one that is
 * higher, after the cost was lowered: padding cannot make a comparison
 * shorter, so such an account answers more slowly than a missing name,
 * and timing still tells it apart (the stage 6 appendix lists this as
 * open; rehashing at login would close it).
 *
 * @param storedCost - the cost inside the stored hash (`bcrypt.getRounds`)
 * @param targetCost - the server's cost now
 * @returns the costs to hash at, cheapest first; empty when none are needed
 *
 * @example
 * ```ts
 * paddingCosts(8, 12);  //=> [8, 9, 10, 11]: 256 + 256+512+1024+2048 = 4096 rounds
 * paddingCosts(12, 12); //=> []
 * ```
 */
export function paddingCosts(storedCost: number, targetCost: number): number[] {
  const costs: number[] = [];
  for (let cost = storedCost; cost < targetCost; cost++) costs.push(cost);
  return costs;
}

// Only when loaded as a worker: the main thread may import this file for its types.
if (!isMainThread) {
  serveTasks<BcryptTask, BcryptResult>(runBcryptTask);
}
