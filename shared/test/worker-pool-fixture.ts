/**
 * A worker script for the worker-pool tests: each task kind exercises one
 * thing the pool promises (results, concurrency, a held worker, a crash).
 */
import { threadId } from 'node:worker_threads';
import { ChatError } from '../src/errors';
import { serveTasks } from '../src/worker-task';

/** The tasks this worker understands. */
export type FixtureTask =
  | { kind: 'echo'; value: string }
  // Every task joins a barrier in shared memory and waits until `parties`
  // tasks are inside a worker at the same moment: proof of concurrency.
  | { kind: 'barrier'; cells: Int32Array; parties: number }
  // Blocks its worker until the test writes a non-zero value to gate[0].
  | { kind: 'hold'; gate: Int32Array }
  | { kind: 'exit'; code: number }
  | { kind: 'explode'; message: string }
  | { kind: 'throw'; message: string }
  // Answers with a function, which cannot be copied back to the pool.
  | { kind: 'uncopyable' };

/** What every task answers: which worker ran it, and the task's outcome. */
export interface FixtureResult {
  threadId: number;
  value?: string;
  met?: boolean;
}

// Only a safety net so a broken pool fails the test instead of hanging it.
const GIVE_UP_MS = 30_000;

serveTasks<FixtureTask, FixtureResult>((task) => {
  switch (task.kind) {
    case 'echo':
      return { threadId, value: task.value };
    case 'barrier': {
      Atomics.add(task.cells, 0, 1);
      Atomics.notify(task.cells, 0);
      for (;;) {
        const arrived = Atomics.load(task.cells, 0);
        if (arrived >= task.parties) return { threadId, met: true };
        if (Atomics.wait(task.cells, 0, arrived, GIVE_UP_MS) === 'timed-out') {
          return { threadId, met: false };
        }
      }
    }
    case 'hold':
      while (Atomics.load(task.gate, 0) === 0) Atomics.wait(task.gate, 0, 0, GIVE_UP_MS);
      return { threadId, value: 'released' };
    case 'exit':
      return process.exit(task.code);
    // An exception outside the handler is uncaught in the worker: it dies.
    case 'explode':
      setImmediate(() => {
        throw new Error(task.message);
      });
      return new Promise<FixtureResult>(() => {});
    case 'throw':
      throw new ChatError('BAD_ARGUMENT', task.message);
    case 'uncopyable':
      return { threadId, value: (() => 'no') as unknown as string };
  }
});
