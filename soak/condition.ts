/**
 * Waiting for a state, not for time: `wait(predicate)` resolves the first time
 * the predicate holds, re-checked whenever the owner calls `notify()` after a
 * change. The soak waits this way for fences, `left` notices and closes.
 *
 * @module
 */

/** A set of waiters on one piece of state. */
export class Condition {
  private waiters: { holds: () => boolean; resolve: () => void }[] = [];

  /**
   * Resolves once `holds()` is true (at once if it already is).
   *
   * @param holds - the state to wait for
   */
  wait(holds: () => boolean): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ holds, resolve }));
  }

  /** The state changed: resolves every waiter whose predicate now holds. */
  notify(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.holds()) return true;
      w.resolve();
      return false;
    });
  }
}

/**
 * Resolves after `ms` milliseconds. Only for load shaping (spacing out a
 * client's messages), never to wait for something to happen.
 *
 * @param ms - the pause
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits for `promise`, but at most `ms`: a safety net so a broken server
 * fails the run with a named check instead of hanging it.
 *
 * @param promise - what to wait for
 * @param ms - the limit
 * @returns true if it settled in time
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}
