/**
 * A deadline for any promise.
 *
 * Introduced by stage 6, for the MySQL store: a database that stops answering
 * must turn into a quick error, and not every wait in a driver has a timeout
 * of its own (mysql2's pool queue has none; its query timeout skips PREPARE).
 *
 * @module
 */

/**
 * Resolves or rejects like `promise`, unless `ms` pass first: then it rejects
 * with an error whose `code` is `ETIMEDOUT`. A promise cannot be cancelled, so
 * if it resolves after the deadline, `onLate` receives the value to clean it
 * up (e.g. give a connection back to its pool).
 *
 * @param promise - the operation to wait for
 * @param ms - the deadline, in milliseconds
 * @param onLate - called with a value that arrived too late
 * @returns the value of `promise`, if it arrived in time
 *
 * @example
 * ```ts
 * await withDeadline(pool.getConnection(), 5000, (late) => late.release());
 * ```
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate?.(value);
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}
