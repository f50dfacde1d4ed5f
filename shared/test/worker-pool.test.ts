/**
 * The worker pool against real worker threads running a TypeScript fixture
 * script. Concurrency is proven from inside the workers (a barrier in shared
 * memory that only opens when N tasks are running at once), never by timing.
 */
import path from 'node:path';
import { isChatError } from '../src/errors';
import { WorkerPool } from '../src/worker-pool';
import type { FixtureResult, FixtureTask } from './worker-pool-fixture';

const SCRIPT = path.join(__dirname, 'worker-pool-fixture.ts');

const pools: WorkerPool<FixtureTask, FixtureResult>[] = [];
function createPool(size: number, maxQueue = 16): WorkerPool<FixtureTask, FixtureResult> {
  const pool = new WorkerPool<FixtureTask, FixtureResult>({ script: SCRIPT, size, maxQueue });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

// A live worker thread shows in the parent as one active MessagePort.
function workerPorts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'MessagePort').length;
}

function sharedInts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

function release(gate: Int32Array): void {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
}

test('results come back to the caller that asked, in a TypeScript worker', async () => {
  const pool = createPool(2);
  await pool.ready();
  const values = ['a', 'b', 'c', 'd', 'e'];
  const results = await Promise.all(values.map((value) => pool.run({ kind: 'echo', value })));
  expect(results.map((r) => r.value)).toEqual(values);
  expect(results.every((r) => r.threadId > 0)).toBe(true); // 0 would be the main thread
});

test('N workers run N tasks at the same time', async () => {
  const size = 3;
  const pool = createPool(size);
  const cells = sharedInts(1);
  const tasks = Array.from({ length: size }, () =>
    pool.run({ kind: 'barrier', cells, parties: size }),
  );
  const results = await Promise.all(tasks);
  // Every task saw all N tasks inside the barrier: they overlapped in time.
  expect(results.map((r) => r.met)).toEqual([true, true, true]);
  expect(new Set(results.map((r) => r.threadId)).size).toBe(size);
});

test('a full queue refuses a task at once with SERVICE_UNAVAILABLE', async () => {
  const pool = createPool(1, 1);
  await pool.ready(); // so the first task runs at once (a loading worker holds its tasks)
  const gate = sharedInts(1);
  const running = pool.run({ kind: 'hold', gate });
  const waiting = pool.run({ kind: 'echo', value: 'queued' });
  expect(pool.running).toBe(1);
  expect(pool.queued).toBe(1);

  await expect(pool.run({ kind: 'echo', value: 'one too many' })).rejects.toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
  });

  release(gate);
  expect((await running).value).toBe('released');
  expect((await waiting).value).toBe('queued');
  // The queue drained, so the pool accepts work again.
  expect((await pool.run({ kind: 'echo', value: 'later' })).value).toBe('later');
});

test('a worker that exits mid-task fails that task and is replaced', async () => {
  const pool = createPool(2);
  await pool.ready();
  const crashed = pool.run({ kind: 'exit', code: 7 });
  await expect(crashed).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  await expect(crashed).rejects.toThrow(/exited with code 7 while running a task/);

  const next = await pool.run({ kind: 'echo', value: 'still here' });
  expect(next.value).toBe('still here');
  // The pool kept its size: two tasks can still meet inside two workers.
  const cells = sharedInts(1);
  const both = await Promise.all([
    pool.run({ kind: 'barrier', cells, parties: 2 }),
    pool.run({ kind: 'barrier', cells, parties: 2 }),
  ]);
  expect(both.map((r) => r.met)).toEqual([true, true]);
});

test('tasks sent before the workers loaded wait for them, and count as places', async () => {
  const pool = createPool(1, 1);
  // One worker still loading: one place for it, one in the queue.
  const first = pool.run({ kind: 'echo', value: 'first' });
  const second = pool.run({ kind: 'echo', value: 'second' });
  expect(pool.running).toBe(0);
  expect(pool.queued).toBe(2);
  await expect(pool.run({ kind: 'echo', value: 'third' })).rejects.toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
  });
  expect((await first).value).toBe('first');
  expect((await second).value).toBe('second');
});

test('a task queued behind a crashing task runs on the replacement worker', async () => {
  const pool = createPool(1);
  const crashed = pool.run({ kind: 'explode', message: 'boom' });
  const queued = pool.run({ kind: 'echo', value: 'after the crash' });
  await expect(crashed).rejects.toThrow(/crashed \(boom\) while running a task/);
  const result = await queued;
  expect(result.value).toBe('after the crash');
});

test('an error thrown by the handler rejects the task, keeps its code, and the worker survives', async () => {
  const pool = createPool(1);
  const first = await pool.run({ kind: 'echo', value: 'x' });
  const failed = pool.run({ kind: 'throw', message: 'no such thing' });
  await expect(failed).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: 'no such thing' });
  const after = await pool.run({ kind: 'echo', value: 'y' });
  expect(after.threadId).toBe(first.threadId);
});

test('close() terminates workers and rejects running and queued tasks', async () => {
  const pool = createPool(1);
  const gate = sharedInts(1);
  const running = pool.run({ kind: 'hold', gate });
  const queued = pool.run({ kind: 'echo', value: 'never' });
  const outcomes = Promise.allSettled([running, queued]);

  await pool.close();
  for (const outcome of await outcomes) {
    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'rejected')
      expect(isChatError(outcome.reason, 'SHUTTING_DOWN')).toBe(true);
  }
  await expect(pool.run({ kind: 'echo', value: 'x' })).rejects.toMatchObject({
    code: 'SHUTTING_DOWN',
  });
});

test('a script that fails to load is reported, not restarted forever', async () => {
  const pool = new WorkerPool<FixtureTask, FixtureResult>({
    script: path.join(__dirname, 'no-such-worker.ts'),
    size: 2,
    maxQueue: 4,
  });
  pools.push(pool);
  // Two tasks go to the two workers, one waits: all three fail with the cause.
  const tasks = ['x', 'y', 'z'].map((value) => pool.run({ kind: 'echo', value }));
  await expect(pool.ready()).rejects.toThrow(/worker script failed to load/);
  for (const task of tasks) {
    await expect(task).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  }
  await expect(pool.run({ kind: 'echo', value: 'y' })).rejects.toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
  });
});

test('a script that throws at load after serveTasks: every task fails with the cause, no restarts', async () => {
  // The worker may say "ready" before it throws, and the pool may hear the
  // crash before the "ready" or after it. Whatever the order, no task may be
  // taken for the one that killed the worker, and the pool must not start
  // replacements that die the same way, forever.
  const portsBefore = workerPorts();
  const pool = new WorkerPool<unknown, string>({
    script: path.join(__dirname, 'worker-pool-broken-fixture.ts'),
    size: 2,
    maxQueue: 8,
  });
  pools.push(pool as unknown as WorkerPool<FixtureTask, FixtureResult>);
  const tasks = [1, 2, 3, 4].map((n) => pool.run(n));
  await expect(pool.ready()).rejects.toThrow(/worker script failed to load/);
  for (const task of tasks) {
    await expect(task).rejects.toThrow(/worker script failed to load.*broken below serveTasks/);
  }
  await expect(pool.run(5)).rejects.toThrow(/worker script failed to load/);
  // That worker reported its failure and stayed alive (serveTasks listens):
  // closing must still stop it, or it keeps the test process from exiting.
  await pool.close();
  expect(workerPorts()).toBe(portsBefore);
});

test('rejects a nonsensical size or queue bound', () => {
  expect(() => new WorkerPool({ script: SCRIPT, size: 0, maxQueue: 1 })).toThrow(/size/);
  expect(() => new WorkerPool({ script: SCRIPT, size: 1, maxQueue: -1 })).toThrow(/maxQueue/);
});

test('a task or result that cannot be copied between threads fails alone', async () => {
  const pool = createPool(1);
  const uncopyable = { kind: 'echo', value: 'x', callback: () => {} } as FixtureTask;
  await expect(pool.run(uncopyable)).rejects.toThrow(/could not be cloned/);
  await expect(pool.run({ kind: 'uncopyable' })).rejects.toThrow(/result cannot be sent/);
  expect((await pool.run({ kind: 'echo', value: 'fine' })).value).toBe('fine');
});

describe('the queue: lanes, fairness, withdrawal', () => {
  test('waiting tasks run by lane, then round robin between keys', async () => {
    const pool = createPool(1, 16);
    const gate = sharedInts(1);
    const order: string[] = [];
    const run = (value: string, lane: number, key: string) =>
      pool.run({ kind: 'echo', value }, { lane, key }).then((r) => order.push(r.value!));
    const held = pool.run({ kind: 'hold', gate }); // the only worker is busy
    const done = [
      run('reg-a1', 1, 'a'),
      run('a1', 0, 'a'),
      run('a2', 0, 'a'),
      run('a3', 0, 'a'),
      run('b1', 0, 'b'),
      run('c1', 0, 'c'),
    ];
    release(gate);
    await held;
    await Promise.all(done);
    // Lane 0 first, one turn per key (a, b, c, then a again); lane 1 last.
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'a3', 'reg-a1']);
  });

  test('a task withdrawn while it waits never reaches a worker, and frees its place', async () => {
    const pool = createPool(1, 1);
    await pool.ready();
    const gate = sharedInts(1);
    const held = pool.run({ kind: 'hold', gate });
    const controller = new AbortController();
    const withdrawn = pool.run({ kind: 'echo', value: 'never' }, { signal: controller.signal });
    expect(pool.queued).toBe(1);
    const reason = new Error('the client left');
    controller.abort(reason);
    await expect(withdrawn).rejects.toBe(reason);
    expect(pool.queued).toBe(0);
    // Its place in the queue is free again.
    const next = pool.run({ kind: 'echo', value: 'next' });
    release(gate);
    await held;
    expect((await next).value).toBe('next');
    // An already aborted signal is refused before the task is queued.
    await expect(
      pool.run({ kind: 'echo', value: 'x' }, { signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  test('the pool keeps a running average of how long tasks take', async () => {
    const pool = createPool(1);
    expect(pool.averageRunMs).toBeUndefined();
    await pool.run({ kind: 'echo', value: 'one' });
    expect(pool.averageRunMs).toBeGreaterThanOrEqual(0);
  });
});
