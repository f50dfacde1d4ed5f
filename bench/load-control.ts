/**
 * The parent's side of the load process: start it, give it one scenario to
 * run, answer its events, and collect its result.
 *
 * Why a separate process: on a 2-core machine the server under test gets one
 * core and the load generator the other. Were the load clients in the same
 * process as the benchmark's bookkeeping, or in the server's, each would steal
 * the other's event loop and the numbers would measure the contention.
 * Parent and load process talk over Node's IPC channel with the messages below.
 *
 * @module
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { FanoutJob, FanoutResult } from './fanout';
import type { IdleResult } from './idle';
import type { LoadEndpoint } from './targets';

/** The repository root: every process the benchmark starts runs from here. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** What the parent asks the load process to do (one request per process). */
export type LoadRequest =
  | { type: 'fanout'; target: string; endpoint: LoadEndpoint; job: FanoutJob }
  | { type: 'idle'; target: string; endpoint: LoadEndpoint; count: number }
  | { type: 'release' };

/** What the load process tells the parent. */
export type LoadEvent =
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'ready' }
  | { type: 'result'; result: FanoutResult | IdleResult }
  | { type: 'error'; message: string };

/**
 * Runs one request in a fresh load process and resolves with its result.
 *
 * @param request - the scenario to run
 * @param onEvent - handles `mark` and `ready` events; `reply` sends the answer back
 * @param timeoutMs - the process is killed, and the promise rejected, after this long
 */
function runInLoadProcess(
  request: LoadRequest,
  onEvent: (event: LoadEvent, reply: (r: LoadRequest) => void) => void,
  timeoutMs: number,
): Promise<FanoutResult | IdleResult> {
  const child = fork(path.join(__dirname, 'load-process.ts'), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, result?: FanoutResult | IdleResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else {
        resolve(result!);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`load process did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const reply = (r: LoadRequest) => {
      if (child.connected) child.send(r);
    };
    child.on('message', (event: LoadEvent) => {
      if (event.type === 'result') finish(null, event.result);
      else if (event.type === 'error') finish(new Error(`load process: ${event.message}`));
      else onEvent(event, reply);
    });
    child.once('error', (err) => finish(err));
    child.once('exit', (code, signal) =>
      finish(new Error(`load process exited early (${code ?? signal}) without a result`)),
    );
    child.send(request);
  });
}

/**
 * Runs the fan-out scenario in a load process.
 *
 * @param target - the target's name
 * @param endpoint - where its server listens
 * @param job - the load's shape
 * @param onMark - called when the measured period starts and ends
 */
export async function loadFanout(
  target: string,
  endpoint: LoadEndpoint,
  job: FanoutJob,
  onMark: (phase: 'start' | 'end') => void,
): Promise<FanoutResult> {
  const timeoutMs = (job.warmupSeconds + job.seconds) * 1000 + 120_000;
  const result = await runInLoadProcess(
    { type: 'fanout', target, endpoint, job },
    (event) => {
      if (event.type === 'mark') onMark(event.phase);
    },
    timeoutMs,
  );
  return result as FanoutResult;
}

/**
 * Runs the idle scenario in a load process: once all `count` clients are in
 * the room, `whileHeld` runs; the clients close when it resolves.
 *
 * @param target - the target's name
 * @param endpoint - where its server listens
 * @param count - how many idle clients
 * @param whileHeld - the measurement to take while they are connected
 */
export async function loadIdle(
  target: string,
  endpoint: LoadEndpoint,
  count: number,
  whileHeld: () => Promise<void>,
): Promise<IdleResult> {
  let holdError: unknown = null;
  const result = await runInLoadProcess(
    { type: 'idle', target, endpoint, count },
    (event, reply) => {
      if (event.type !== 'ready') return;
      // Release the clients even if the measurement failed; report its error after.
      whileHeld()
        .catch((err: unknown) => (holdError = err))
        .finally(() => reply({ type: 'release' }));
    },
    180_000,
  );
  if (holdError) throw holdError;
  return result as IdleResult;
}
