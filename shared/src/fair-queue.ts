/**
 * A queue that is fair between clients and serves urgent work first.
 *
 * Introduced by stage 6, for the hashing workers (the worker pool uses it
 * for every queue; with one lane and one key it is a plain FIFO, which is
 * what stage 3 needs). A single first-come, first-served queue lets whoever
 * sends the most requests take the whole of it: 40 connections registering
 * junk accounts from one address put 40 jobs ahead of every real login. This
 * queue has two rules instead:
 *
 * 1. **Lanes.** Lane 0 is always served before lane 1, and so on. Stage 6
 *    puts logins in lane 0 and registrations in lane 1, so a registration
 *    flood can never delay a login by more than the jobs already running.
 * 2. **Round robin between keys** inside a lane (the key is the client's
 *    address). Each key has its own FIFO, and the next job comes from the
 *    next key in turn: one address with 30 jobs waiting and another with 1
 *    take turns, so the second waits for one job, not thirty. Network
 *    routers call this fair queuing; it is the idea behind deficit round
 *    robin and Linux's `fq` qdisc.
 *
 * Every operation is O(1): a `Map` remembers insertion order, so the key
 * served last is simply deleted and re-inserted at the end.
 *
 * @module
 */

/**
 * Items in lanes, and in each lane one FIFO per key, served round robin.
 *
 * @example
 * ```ts
 * const queue = new FairQueue<string>();
 * queue.push('a1', 0, 'a'); queue.push('a2', 0, 'a'); queue.push('b1', 0, 'b');
 * queue.push('r1', 1, 'a');
 * [queue.shift(), queue.shift(), queue.shift(), queue.shift()]; //=> ['a1', 'b1', 'a2', 'r1']
 * ```
 */
export class FairQueue<T> {
  private readonly lanes: Map<string, T[]>[] = [];
  private count = 0;

  /** Items waiting, in every lane. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds an item at the end of its key's FIFO in its lane.
   *
   * @param item - what to queue
   * @param lane - 0 is served first; a whole number ≥ 0
   * @param key - whom it belongs to, for round robin (e.g. a client's address)
   */
  push(item: T, lane = 0, key = ''): void {
    while (this.lanes.length <= lane) this.lanes.push(new Map());
    const keys = this.lanes[lane]!;
    const fifo = keys.get(key);
    if (fifo === undefined) keys.set(key, [item]);
    else fifo.push(item);
    this.count++;
  }

  /** Takes the next item: the lowest lane with items, the next key in turn. */
  shift(): T | undefined {
    for (const keys of this.lanes) {
      const first = keys.entries().next();
      if (first.done) continue;
      const [key, fifo] = first.value;
      const item = fifo.shift()!;
      keys.delete(key); // its turn is over: to the back of the line, if it has more
      if (fifo.length > 0) keys.set(key, fifo);
      this.count--;
      return item;
    }
    return undefined;
  }

  /**
   * Removes one queued item (e.g. a job whose client went away).
   *
   * @returns whether it was there
   */
  remove(item: T, lane = 0, key = ''): boolean {
    const fifo = this.lanes[lane]?.get(key);
    const at = fifo?.indexOf(item) ?? -1;
    if (fifo === undefined || at === -1) return false;
    fifo.splice(at, 1);
    if (fifo.length === 0) this.lanes[lane]!.delete(key);
    this.count--;
    return true;
  }

  /** Removes and returns every item, lane by lane. */
  drain(): T[] {
    const items: T[] = [];
    for (const keys of this.lanes) for (const fifo of keys.values()) items.push(...fifo);
    this.lanes.length = 0;
    this.count = 0;
    return items;
  }
}
