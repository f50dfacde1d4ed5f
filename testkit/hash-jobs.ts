/**
 * A hasher watched by a test: how many jobs the server has handed to its
 * queue, and a promise for the next one. A test that must act while a login
 * waits for a worker (close its connection, say) waits for that job, never
 * for a timer.
 *
 * @module
 */
import type { PasswordHasher } from '../shared/src/passwords';

/** What {@link watchHashJobs} reports. */
export interface HashJobs {
  /** Jobs handed to the queue so far (bcrypt hashes and compares). */
  count(): number;
  /** Resolves when the server next hands a job to the queue. */
  next(): Promise<void>;
}

/**
 * Wraps `hasher.reserve` so that every hash or compare a reservation starts
 * is counted and wakes whoever waits for the next.
 *
 * @param hasher - the hasher the server under test uses
 */
export function watchHashJobs(hasher: PasswordHasher): HashJobs {
  let jobs = 0;
  const waiters: (() => void)[] = [];
  const started = () => {
    jobs++;
    for (const wake of waiters.splice(0)) wake();
  };
  const reserve = hasher.reserve.bind(hasher);
  hasher.reserve = (request) => {
    const place = reserve(request);
    return {
      hash: (password) => (started(), place.hash(password)),
      verify: (password, hash) => (started(), place.verify(password, hash)),
      release: () => place.release(),
    };
  };
  return {
    count: () => jobs,
    next: () => new Promise((resolve) => waiters.push(resolve)),
  };
}
