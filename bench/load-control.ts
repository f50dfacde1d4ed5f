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
import type { BurstJob, BurstResult } from './login-burst';
import type { LoginsJob, LoginsResult } from './logins';
import type { RunFiles } from './run-files';
import type { LoadEndpoint } from './targets';

/** The repository root: every process the benchmark starts runs from here. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** What the parent asks the load process to do (one request per process). */
export type LoadRequest =
  | { type: 'fanout'; target: string; endpoint: LoadEndpoint; files: RunFiles; job: FanoutJob }
  | { type: 'idle'; target: string; endpoint: LoadEndpoint; files: RunFiles; count: number }
  | { type: 'logins'; endpoint: LoadEndpoint; files: RunFiles; job: LoginsJob }
  | { type: 'burst'; endpoint: LoadEndpoint; files: RunFiles; job: BurstJob }
  | { type: 'release' };

/** Any scenario's result. */
export type LoadResult = FanoutResult | IdleResult | LoginsResult | BurstResult;

/** What the load process tells the parent. */
export type LoadEvent =
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'ready' }
  | { type: 'result'; result: LoadResult }
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
): Promise<LoadResult> {
  const child = fork(path.join(__dirname, 'load-process.ts'), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, result?: LoadResult) => {
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
      else if (event.type === 'error') {
        const what =
          request.type === 'fanout' || request.type === 'idle'
            ? `${request.type} ${request.target}`
            : request.type;
        finish(new Error(`load process (${what}): ${event.message}`));
      } else onEvent(event, reply);
    });
    child.once('error', (err) => finish(err));
    child.once('exit', (code, signal) =>
      finish(new Error(`load process exited early (${code ?? signal}) without a result`)),
    );
    child.send(request);
  });
}

/**
 * Runs a scenario that marks the start and end of its measured period.
 *
 * @param request - the scenario
 * @param onMark - called when the measured period starts and ends
 * @param timeoutMs - the load process is killed after this long
 */
function runMarked(
  request: LoadRequest,
  onMark: (phase: 'start' | 'end') => void,
  timeoutMs: number,
): Promise<LoadResult> {
  return runInLoadProcess(
    request,
    (event) => {
      if (event.type === 'mark') onMark(event.phase);
    },
    timeoutMs,
  );
}

/**
 * Runs the fan-out scenario in a load process.
 *
 * @param target - the target's name
 * @param endpoint - where its server listens
 * @param files - the run's files (the room key)
 * @param job - the load's shape
 * @param onMark - called when the measured period starts and ends
 */
export async function loadFanout(
  target: string,
  endpoint: LoadEndpoint,
  files: RunFiles,
  job: FanoutJob,
  onMark: (phase: 'start' | 'end') => void,
): Promise<FanoutResult> {
  const timeoutMs = (job.warmupSeconds + job.seconds) * 1000 + 120_000;
  const request: LoadRequest = { type: 'fanout', target, endpoint, files, job };
  return (await runMarked(request, onMark, timeoutMs)) as FanoutResult;
}

/**
 * Runs the logins-per-second scenario (stage 6) in a load process.
 *
 * @param endpoint - where the stage 6 server listens
 * @param files - the run's files (the room key)
 * @param job - how many logins, as whom, how many at once
 * @param onMark - called when the first login starts and the last one ended
 */
export async function loadLogins(
  endpoint: LoadEndpoint,
  files: RunFiles,
  job: LoginsJob,
  onMark: (phase: 'start' | 'end') => void,
): Promise<LoginsResult> {
  // Generous: at cost 20 one login takes minutes; the login scenarios bound `count` instead.
  const timeoutMs = 600_000;
  const request: LoadRequest = { type: 'logins', endpoint, files, job };
  return (await runMarked(request, onMark, timeoutMs)) as LoginsResult;
}

/**
 * Runs the login-burst scenario (stage 6) in a load process.
 *
 * @param endpoint - where the stage 6 server listens
 * @param files - the run's files (the room key)
 * @param job - the chat, the burst and the periods
 * @param onMark - called when the burst starts and ends
 */
export async function loadBurst(
  endpoint: LoadEndpoint,
  files: RunFiles,
  job: BurstJob,
  onMark: (phase: 'start' | 'end') => void,
): Promise<BurstResult> {
  const request: LoadRequest = { type: 'burst', endpoint, files, job };
  return (await runMarked(request, onMark, 600_000)) as BurstResult;
}

/**
 * Runs the idle scenario in a load process: once all `count` clients are in
 * the room, `whileHeld` runs; the clients close when it resolves.
 *
 * @param target - the target's name
 * @param endpoint - where its server listens
 * @param files - the run's files (the room key)
 * @param count - how many idle clients
 * @param whileHeld - the measurement to take while they are connected
 */
export async function loadIdle(
  target: string,
  endpoint: LoadEndpoint,
  files: RunFiles,
  count: number,
  whileHeld: () => Promise<void>,
): Promise<IdleResult> {
  let holdError: unknown = null;
  const result = await runInLoadProcess(
    { type: 'idle', target, endpoint, files, count },
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
