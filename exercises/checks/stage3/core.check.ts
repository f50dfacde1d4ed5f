// Stage 3, write the core: a worker pool with a bounded queue. The task and
// the stub are in exercises/core/stage3/pool.ts (its workers run the given
// exercises/core/stage3/fib-worker.ts).
//
// The checks hold tasks inside their workers with a "gate": shared memory
// the worker waits on (Atomics.wait) until the check releases it. So "both
// workers are busy" or "this task is still running" is a fact the check
// makes, not a guess about timing.
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';

const STARTER = 'exercises/core/stage3/pool.ts';

/** The stub's API (see the starter file and fib-worker.ts). */
interface Task {
  n: number;
  gate?: Int32Array;
}
interface Result {
  n: number;
  fib: number;
  threadId: number;
}
interface Pool {
  run(task: Task): Promise<Result>;
  close(): Promise<void>;
}
interface Core {
  Pool: new (options: { size: number; maxQueue: number }) => Pool;
}

const FIB: Record<number, number> = { 1: 1, 2: 1, 3: 2, 10: 55, 20: 6765, 25: 75025 };

/** The learner's pool, closed after the check (after every gate is released). */
function pool(ctx: CheckContext, size: number, maxQueue: number): Pool {
  const { Pool } = ctx.load<Core>(STARTER);
  const created = new Pool({ size, maxQueue });
  ctx.defer(() => created.close());
  return created;
}

/** Slot 0: how many gated tasks have started. Slot 1: set to release them all. */
function gate(ctx: CheckContext): Int32Array {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  ctx.defer(() => release(shared)); // runs before the pool's close (latest first)
  return shared;
}

function release(shared: Int32Array): void {
  Atomics.store(shared, 1, 1);
  Atomics.notify(shared, 1);
}

// Atomics.waitAsync is in Node 20 but not in the ES2023 type library.
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Resolves once `count` gated tasks are inside a worker (the worker says so itself). */
async function started(shared: Int32Array, count: number): Promise<void> {
  for (;;) {
    const now = Atomics.load(shared, 0);
    if (now >= count) return;
    const wait = waitAsync(shared, 0, now);
    if (wait.async) await wait.value;
  }
}

/** Whether a promise has settled, and how; looked at after the current turn of the event loop. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function expectRefused(promise: Promise<unknown>, code: string, what: string) {
  const state = watch(promise);
  await nextTurn(); // a refusal is immediate: no worker, no timer involved
  assert.ok(
    state.settled,
    `${what} was accepted and is waiting: it should be refused at once with ${code}`,
  );
  const got = (state.error as { code?: string } | undefined)?.code;
  assert.ok(state.error !== undefined, `${what} succeeded; expected a refusal with ${code}`);
  expectSame(got, code, `the error code of ${what}`);
}

function expectAnswer(result: Result, n: number, what: string): void {
  assert.deepEqual(
    { n: result?.n, fib: result?.fib },
    { n, fib: FIB[n] },
    `${what} was answered with ${JSON.stringify(result)}`,
  );
}

export const exercise: Exercise = {
  title: 'Write the core: a worker pool with a bounded queue',
  readme: 'stage3-threads/README.md',
  starter: STARTER,
  checks: [
    {
      name: "run() answers with the worker's result, computed on a worker thread that is reused",
      hint: 'start the workers in the constructor with startWorker(); run() posts { id, task } and resolves on the answer with that id',
      async run(ctx) {
        const p = pool(ctx, 1, 0);
        const first = await p.run({ n: 20 });
        expectAnswer(first, 20, 'fib 20');
        assert.notEqual(first.threadId, 0, 'fib 20 was computed on the main thread (threadId 0)');
        const second = await p.run({ n: 10 });
        expectAnswer(second, 10, 'fib 10');
        expectSame(
          second.threadId,
          first.threadId,
          'the thread of the second task (one worker: the same one)',
        );
      },
    },
    {
      name: 'with size 2, two tasks run at the same time, on two threads',
      hint: 'keep a list of idle workers: a task goes to any idle one at once',
      timeoutMs: 15_000,
      async run(ctx) {
        const p = pool(ctx, 2, 0);
        const shared = gate(ctx);
        const both = [p.run({ n: 10, gate: shared }), p.run({ n: 20, gate: shared })];
        await started(shared, 2); // both are inside a worker now, held by the gate
        release(shared);
        const [a, b] = await Promise.all(both);
        expectAnswer(a!, 10, 'the first task');
        expectAnswer(b!, 20, 'the second task');
        assert.notEqual(a!.threadId, b!.threadId, 'both tasks ran on the same thread');
      },
    },
    {
      name: 'size 1, maxQueue 2: one runs, two wait, and a fourth is refused at once with SERVICE_UNAVAILABLE',
      hint: 'when no worker is idle and the queue already holds maxQueue tasks, return Promise.reject(new ChatError(...))',
      async run(ctx) {
        const p = pool(ctx, 1, 2);
        const shared = gate(ctx);
        const running = p.run({ n: 1, gate: shared });
        await started(shared, 1);
        const waiting = [p.run({ n: 2 }), p.run({ n: 3 })];
        await expectRefused(
          p.run({ n: 10 }),
          'SERVICE_UNAVAILABLE',
          'a 4th task (1 running, 2 waiting)',
        );
        release(shared);
        expectAnswer(await running, 1, 'the running task');
        expectAnswer((await waiting[0])!, 2, 'the first waiting task');
        expectAnswer((await waiting[1])!, 3, 'the second waiting task');
      },
    },
    {
      name: 'each answer goes to the task that asked, even when a later task finishes first',
      hint: 'keep the pending tasks by id, and resolve the one whose id the answer carries',
      async run(ctx) {
        const p = pool(ctx, 2, 0);
        const shared = gate(ctx);
        const slow = p.run({ n: 25, gate: shared });
        await started(shared, 1);
        const quick = p.run({ n: 10 });
        const first = await Promise.race([
          slow.then((r) => ({ who: 'the held task (n = 25)', r })),
          quick.then((r) => ({ who: 'the quick task (n = 10)', r })),
        ]);
        expectSame(first.who, 'the quick task (n = 10)', 'the task that was answered first');
        expectAnswer(first.r, 10, 'the quick task');
        release(shared);
        expectAnswer(await slow, 25, 'the held task');
      },
    },
    {
      name: 'waiting tasks start oldest first, and a finished queue makes room again',
      hint: 'a queue is first in, first out (push, shift); when a worker finishes, give it the oldest waiting task',
      async run(ctx) {
        const p = pool(ctx, 1, 3);
        for (const round of [1, 2]) {
          const shared = gate(ctx);
          const order: number[] = [];
          const running = p.run({ n: 1, gate: shared });
          await started(shared, 1);
          const waiting = [2, 3, 10].map((n) => p.run({ n }).then((r) => void order.push(r.n)));
          await expectRefused(
            p.run({ n: 20 }),
            'SERVICE_UNAVAILABLE',
            `round ${round}: a 5th task (1 running, 3 waiting)`,
          );
          release(shared);
          await running;
          await Promise.all(waiting);
          assert.deepEqual(
            order,
            [2, 3, 10],
            `round ${round}: the order waiting tasks finished in`,
          );
        }
      },
    },
    {
      name: 'close() stops the workers; what was running or waiting, and any later run(), get SHUTTING_DOWN',
      hint: 'close(): worker.terminate() each worker, reject every pending task, and remember that the pool is closed',
      async run(ctx) {
        const p = pool(ctx, 1, 1);
        const shared = gate(ctx);
        const running = watch(p.run({ n: 1, gate: shared }));
        await started(shared, 1);
        const waiting = watch(p.run({ n: 2 }));
        await p.close(); // the held worker is never released: only terminate() can end it
        await nextTurn();
        for (const [what, state] of [
          ['the running task', running],
          ['the waiting task', waiting],
        ] as const) {
          assert.ok(state.settled, `${what} still pending after close()`);
          expectSame(
            (state.error as { code?: string } | undefined)?.code,
            'SHUTTING_DOWN',
            `the error code of ${what}`,
          );
        }
        await expectRefused(p.run({ n: 3 }), 'SHUTTING_DOWN', 'a task after close()');
      },
    },
  ],
};
