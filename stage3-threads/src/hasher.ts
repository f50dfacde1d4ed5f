/**
 * Two ways to run the same CPU-bound hash: on the event loop, or in workers.
 *
 * The blocking hasher returns the hash itself: it computed it right there, on
 * the one thread that also serves every socket, and no other client was
 * answered meanwhile. The pool hasher returns a Promise at once and the hash
 * is computed by a worker thread, on another core, while the event loop goes
 * on serving. Note that a Promise alone would not have helped: wrapping
 * `hashSync` in an `async` function still runs the whole hash before the
 * function returns (see the pitfalls in this stage's README).
 *
 * @module
 */
import path from 'node:path';
import { WorkerPool } from '../../shared/src/worker-pool';
import { hashTask, type HashTask } from './hash-worker';

/** Where hashes are computed: `blocking` on the event loop, `pool` in worker threads. */
export type HashMode = 'blocking' | 'pool';

/** Computes bcrypt hashes, one way or the other. */
export interface Hasher {
  /** Which way this hasher works. */
  readonly mode: HashMode;
  /** Worker threads doing the hashing (0 in blocking mode). */
  readonly workers: number;
  /**
   * Hashes one password: the hash itself in blocking mode (computed before
   * this returns), a Promise of it in pool mode.
   *
   * @throws ChatError (pool mode, as a rejected Promise) `SERVICE_UNAVAILABLE`
   *   when the queue is full or a worker died; `SHUTTING_DOWN` after `close()`
   */
  hash(password: string): string | Promise<string>;
  /** Releases the workers, if any. */
  close(): Promise<void>;
}

// #region blocking
/**
 * A hasher that computes on the calling thread: the event loop.
 *
 * @param cost - bcrypt cost
 */
export function createBlockingHasher(cost: number): Hasher {
  return {
    mode: 'blocking',
    workers: 0,
    hash: (password) => hashTask({ password, cost }),
    close: async () => {},
  };
}
// #endregion blocking

/** Options for {@link createPoolHasher}. */
export interface PoolHasherOptions {
  /** bcrypt cost. */
  cost: number;
  /** Worker threads; about one per core. */
  workers: number;
  /** Hashes allowed to wait for a worker before new ones are refused. */
  maxQueue: number;
}

// #region pool
/**
 * A hasher that sends each password to a pool of worker threads. Resolves once
 * every worker has loaded its script, so the first clients do not wait for it.
 *
 * @param options - cost, pool size and queue bound
 * @throws ChatError `SERVICE_UNAVAILABLE` if the worker script cannot load
 */
export async function createPoolHasher(options: PoolHasherOptions): Promise<Hasher> {
  const pool = new WorkerPool<HashTask, string>({
    script: path.join(__dirname, 'hash-worker.ts'),
    size: options.workers,
    maxQueue: options.maxQueue,
  });
  try {
    await pool.ready();
  } catch (err) {
    await pool.close();
    throw err;
  }
  return {
    mode: 'pool',
    workers: pool.size,
    hash: (password) => pool.run({ password, cost: options.cost }),
    close: () => pool.close(),
  };
}
// #endregion pool
