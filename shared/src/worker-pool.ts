/**
 * A small, fixed-size pool of `worker_threads` with a bounded queue.
 *
 * Introduced by stage 3 (which moves bcrypt off the event loop with it) and
 * reused by stage 6 for password hashing. Node serves thousands of sockets on
 * one thread because waiting for I/O costs that thread nothing; CPU-bound work
 * is different: while a bcrypt hash runs on the event loop, no other client is
 * served. A worker thread has its own event loop and its own V8 isolate, so N
 * workers can compute on N cores while the main thread keeps answering.
 *
 * The pool keeps three promises:
 * - at most `size` tasks run at once, one per worker;
 * - at most `maxQueue` tasks wait; one more is refused at once with
 *   `SERVICE_UNAVAILABLE` (backpressure: a flood of requests gets a fast "no"
 *   instead of growing memory and latency without limit);
 * - waiting tasks are served by lane, then round robin between keys
 *   (`fair-queue.ts`; stage 6 gives logins their own lane and each client
 *   address its own turn), and a task whose `signal` aborts while it waits
 *   is dropped without ever reaching a worker;
 * - a worker that dies fails only the task it was running, and is replaced so
 *   the pool keeps its size.
 *
 * The worker side lives in a script that calls `serveTasks` (`worker-task.ts`,
 * which also defines the messages the two sides exchange). A task goes only to
 * a worker whose "ready" the pool has heard: its script loaded, so if it dies
 * later, the task it holds is to blame, and if it dies before, the script is
 * (and no task went down with it). The order in which the pool hears a
 * worker's last message and its death does not change that verdict.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { ChatError } from './errors';
import { FairQueue } from './fair-queue';
import { errorFromWorker, type FromWorker, type ToWorker } from './worker-task';

/** Options for {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Absolute path of the worker script (a `.ts` file that calls `serveTasks` from worker-task.ts). */
  script: string;
  /** How many workers run tasks at the same time; about one per CPU core. */
  size: number;
  /** How many tasks may wait for a free worker before `run` refuses new ones. */
  maxQueue: number;
}

/** Where a task waits, for {@link WorkerPool.run}. Every field is optional. */
export interface RunOptions {
  /** Lower lanes are served first. Default 0. */
  lane?: number;
  /** Tasks of one lane are served round robin between keys (e.g. client addresses). Default `''`. */
  key?: string;
  /** Aborting it while the task waits removes the task and rejects it with the signal's reason. */
  signal?: AbortSignal;
}

type Job<Task, Result> = {
  id: number;
  task: Task;
  lane: number;
  key: string;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
  // Set while the job waits in the queue: removes it when its signal aborts.
  onAbort?: () => void;
  signal?: AbortSignal;
};

type Slot<Task, Result> = {
  worker: Worker;
  ready: boolean;
  job?: Job<Task, Result>;
  startedAt?: number;
};

// Weight of the newest run time in the running average: the average follows
// a change (a busier machine, another cost) within about ten tasks.
const RUN_TIME_WEIGHT = 0.2;

// #region bootstrap
// How a worker runs TypeScript. `new Worker(file)` starts plain Node, which
// cannot load a .ts file, and it does not inherit the loader of its parent:
// under jest (ts-jest compiles in memory) nothing would compile it at all. So
// each worker starts from this small piece of JavaScript (`eval: true`), which
// registers tsx's CommonJS hook (`tsx/cjs`: every later `require` of a .ts file
// is compiled on the fly) and then requires the real worker script. The paths
// travel in `workerData` and are resolved here, in the parent, so the worker
// finds tsx whatever its current directory is. This works the same under
// `npx tsx`, `npm run` and jest.
//
// A script that throws while loading is reported as a message, not thrown on:
// an exception left to escape this eval'd code is decorated by Node while the
// pool may already be terminating the worker (another worker failed the same
// way first), and Node 20 aborts the whole process on that race.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
try {
  require(workerData.tsxHook);
  require(workerData.script);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  parentPort.postMessage({ type: 'load-failed', message });
}
`;
const TSX_HOOK = require.resolve('tsx/cjs');
// #endregion bootstrap

/**
 * A fixed-size pool of worker threads running one script, with a bounded queue.
 *
 * `Task` and `Result` are the types the worker script's handler takes and
 * returns; they must survive structured cloning (plain data, no functions or
 * class instances).
 *
 * @example
 * ```ts
 * const pool = new WorkerPool<HashTask, string>({ script, size: 2, maxQueue: 32 });
 * await pool.ready();
 * const hash = await pool.run({ password: 'hunter22', cost: 10 });
 * await pool.close();
 * ```
 */
export class WorkerPool<Task, Result> {
  /** Number of workers; the pool replaces a dead worker to keep this many. */
  readonly size: number;
  /** Maximum number of tasks waiting for a worker. */
  readonly maxQueue: number;
  private readonly script: string;
  private readonly slots = new Set<Slot<Task, Result>>();
  private readonly queue = new FairQueue<Job<Task, Result>>();
  private nextId = 1;
  private averageMs: number | undefined;
  private closed = false;
  // Set when a worker dies before its script finished loading: the script
  // itself is broken, so starting another worker would only fail again, forever.
  private broken?: ChatError;
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  // Workers retired without being in `slots` any more, still terminating.
  private readonly dying: Promise<number>[] = [];
  // Settles when close() has stopped every worker; a second close() waits for it too.
  private stopped: Promise<void> = Promise.resolve();

  /** @param options - the worker script, the pool size and the queue bound */
  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new ChatError('BAD_ARGUMENT', `worker pool size must be a positive integer`);
    }
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new ChatError('BAD_ARGUMENT', `worker pool maxQueue must be a non-negative integer`);
    }
    this.size = options.size;
    this.maxQueue = options.maxQueue;
    this.script = options.script;
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** Tasks waiting for a free worker right now. */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * How long a task has taken in a worker lately, in milliseconds: a running
   * average of the last tasks' run times (not counting their wait), or
   * `undefined` before the first task finished. Stage 6 estimates a login's
   * wait from it.
   */
  get averageRunMs(): number | undefined {
    return this.averageMs;
  }

  /** Tasks running in a worker right now. */
  get running(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.job) count++;
    return count;
  }

  /**
   * Resolves once every worker has loaded its script, so the first tasks do
   * not pay for compiling it. Optional: `run` works before that too.
   *
   * @throws ChatError `SERVICE_UNAVAILABLE` if the script fails to load
   */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject });
      this.settleReady();
    });
  }

  /**
   * Runs one task in a worker: at once if one is free, else after the tasks
   * queued before it (by lane, then round robin between keys).
   *
   * @param task - the input for the worker script's handler
   * @param options - the task's lane and key, and a signal that withdraws it while it waits
   * @returns the handler's result
   * @throws ChatError `SERVICE_UNAVAILABLE` at once if the queue is full or the
   *   script is broken, or later if the worker dies while running this task;
   *   `SHUTTING_DOWN` if the pool is closed; the signal's reason if it aborts
   *   while the task waits; or whatever the handler threw
   */
  run(task: Task, options: RunOptions = {}): Promise<Result> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new ChatError('SHUTTING_DOWN', 'worker pool is closed'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const idle = [...this.slots].find((slot) => slot.ready && !slot.job);
    // A worker still loading its script takes a task as soon as it is ready,
    // so each one counts as a place, as a free worker would.
    const starting = [...this.slots].filter((slot) => !slot.ready).length;
    if (!idle && this.queue.size >= this.maxQueue + starting) {
      return Promise.reject(
        new ChatError(
          'SERVICE_UNAVAILABLE',
          `all ${this.size} workers are busy and ${this.maxQueue} tasks are already waiting`,
        ),
      );
    }
    return new Promise<Result>((resolve, reject) => {
      const lane = options.lane ?? 0;
      const key = options.key ?? '';
      const job: Job<Task, Result> = { id: this.nextId++, task, lane, key, resolve, reject };
      if (idle) {
        this.assign(idle, job);
        return;
      }
      this.queue.push(job, lane, key);
      if (signal) {
        job.signal = signal;
        job.onAbort = () => {
          if (this.queue.remove(job, lane, key)) reject(abortReason(signal));
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
    });
  }

  /**
   * Terminates every worker. Waiting and running tasks are rejected with
   * `SHUTTING_DOWN`, and so is every later `run`.
   */
  async close(): Promise<void> {
    if (this.closed) return this.stopped;
    this.closed = true;
    const stopped = new ChatError('SHUTTING_DOWN', 'worker pool closed before the task finished');
    for (const job of this.queue.drain()) job.reject(stopped);
    const workers = [...this.slots].map((slot) => {
      slot.job?.reject(stopped);
      slot.job = undefined;
      return slot.worker.terminate();
    });
    this.slots.clear();
    this.settleReady();
    this.stopped = Promise.all([...workers, ...this.dying]).then(() => undefined);
    await this.stopped;
  }

  private spawn(): void {
    // #region bootstrap
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { tsxHook: TSX_HOOK, script: this.script },
    });
    // #endregion bootstrap
    const slot: Slot<Task, Result> = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (message: FromWorker<Result>) => this.onMessage(slot, message));
    // An uncaught exception in the worker arrives as 'error', then 'exit';
    // process.exit() or terminate() in the worker gives only 'exit'.
    // Whichever comes first retires the worker; the other is then ignored.
    worker.on('error', (err) => this.retire(slot, `crashed (${err.message})`));
    worker.on('exit', (code) => this.retire(slot, `exited with code ${code}`));
  }

  private onMessage(slot: Slot<Task, Result>, message: FromWorker<Result>): void {
    if (message.type === 'load-failed') {
      this.retire(slot, `crashed (${message.message})`);
      return;
    }
    if (message.type === 'ready') {
      if (!this.slots.has(slot)) return; // it died first; its message came late
      slot.ready = true;
      this.settleReady();
      this.dispatch(); // tasks that waited for it to load
      return;
    }
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    slot.job = undefined;
    const ms = performance.now() - (slot.startedAt ?? performance.now());
    this.averageMs =
      this.averageMs === undefined ? ms : this.averageMs + RUN_TIME_WEIGHT * (ms - this.averageMs);
    if (message.type === 'done') job.resolve(message.result);
    else job.reject(errorFromWorker(message.error));
    this.dispatch();
  }

  // A worker died: fail its task (only that one), then start a replacement.
  private retire(slot: Slot<Task, Result>, how: string): void {
    if (!this.slots.delete(slot)) return; // already retired, or the pool is closing
    if (slot.ready) {
      slot.job?.reject(new ChatError('SERVICE_UNAVAILABLE', `worker ${how} while running a task`));
      this.spawn();
      this.dispatch();
      return;
    }
    // It died before its script finished loading: the script is broken, and
    // every worker running it will fail the same way. Fail everything now.
    const broken = new ChatError('SERVICE_UNAVAILABLE', `worker script failed to load: ${how}`);
    this.broken = broken;
    // A worker that reported "load-failed" is still alive (a script that called
    // serveTasks before throwing keeps listening), and it has left `slots`, so
    // close() would not stop it: stop it here (close() waits for it), or it
    // keeps the process running.
    this.dying.push(slot.worker.terminate());
    const jobs = [slot.job, ...[...this.slots].map((s) => s.job), ...this.queue.drain()];
    for (const s of this.slots) s.job = undefined;
    for (const job of jobs) job?.reject(broken);
    void this.close();
  }

  private assign(slot: Slot<Task, Result>, job: Job<Task, Result>): void {
    // Running now: its signal can no longer withdraw it.
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    const message: ToWorker<Task> = { id: job.id, task: job.task };
    try {
      // postMessage copies the task (structured clone); a task holding a
      // function or a socket cannot be copied and throws here.
      slot.worker.postMessage(message);
      slot.job = job;
      slot.startedAt = performance.now();
    } catch (err) {
      job.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  // Hands waiting tasks to idle workers that have loaded, in the queue's order.
  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.ready && !slot.job && this.queue.size > 0) this.assign(slot, this.queue.shift()!);
    }
  }

  private settleReady(): void {
    const failure =
      this.broken ?? (this.closed ? new ChatError('SHUTTING_DOWN', 'worker pool is closed') : null);
    const allReady = [...this.slots].every((slot) => slot.ready);
    if (!failure && !allReady) return;
    for (const waiter of this.readyWaiters.splice(0)) {
      if (failure) waiter.reject(failure);
      else waiter.resolve();
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new ChatError('SHUTTING_DOWN', 'the task was withdrawn');
}
