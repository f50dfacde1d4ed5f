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
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { LoadCommand, LoadProgress } from './load-channel';
import type { FanoutJob, FanoutResult } from './fanout';
import type { IdleResult } from './idle';
import type { BurstJob, BurstResult } from './login-burst';
import type { LoginsJob, LoginsResult } from './logins';
import { withOpenFileLimit } from './open-files';
import type { RunFiles } from './run-files';
import type { ActiveJob, ActiveResult, ScaleIdleJob, ScaleIdleResult } from './scale';
import type { LoadEndpoint } from './load-client';

/** The repository root: every process the benchmark starts runs from here. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** What the parent asks the load process to do (one request per process). */
export type LoadRequest =
  | { type: 'fanout'; target: string; endpoint: LoadEndpoint; files: RunFiles; job: FanoutJob }
  | { type: 'idle'; target: string; endpoint: LoadEndpoint; files: RunFiles; count: number }
  | { type: 'logins'; endpoint: LoadEndpoint; files: RunFiles; job: LoginsJob }
  | { type: 'burst'; endpoint: LoadEndpoint; files: RunFiles; job: BurstJob }
  | {
      type: 'scale-idle';
      target: string;
      endpoint: LoadEndpoint;
      files: RunFiles;
      job: ScaleIdleJob;
    }
  | {
      type: 'scale-active';
      target: string;
      endpoint: LoadEndpoint;
      files: RunFiles;
      job: ActiveJob;
    }
  | LoadCommand;

/** Any scenario's result. */
export type LoadResult =
  FanoutResult | IdleResult | LoginsResult | BurstResult | ScaleIdleResult | ActiveResult;

/** What the load process tells the parent. */
export type LoadEvent =
  LoadProgress | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

/** The load process's entry file, and how Node runs it. */
const LOAD_PROCESS = ['--import', 'tsx', path.join(__dirname, 'load-process.ts')];

/**
 * Starts a load process with its open-file limit raised (see open-files.ts):
 * one of them may hold thousands of sockets.
 */
function startLoadProcess() {
  const { command, args } = withOpenFileLimit(process.execPath, LOAD_PROCESS);
  return spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * Runs a scenario that marks the start and end of its measured period
 * (fan-out, logins, burst) in a fresh load process, and resolves with its result.
 *
 * @param request - the scenario
 * @param onMark - called when the measured period starts and ends
 * @param timeoutMs - the load process is killed after this long
 */
export async function loadMarked<R extends LoadResult>(
  request: LoadRequest,
  onMark: (phase: 'start' | 'end') => void,
  timeoutMs: number,
): Promise<R> {
  const session = new LoadSession(request, timeoutMs, (event) => {
    if (event.type === 'mark') onMark(event.phase);
  });
  return (await session.result) as R;
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
  const request: LoadRequest = { type: 'idle', target, endpoint, files, count };
  const session: LoadSession = new LoadSession(request, 180_000, (event) => {
    if (event.type !== 'ready') return;
    // Release the clients even if the measurement failed; report its error after.
    whileHeld()
      .catch((err: unknown) => (holdError = err))
      .finally(() => session.send({ type: 'release' }));
  });
  const result = await session.result;
  if (holdError) throw holdError;
  return result as IdleResult;
}

/**
 * One load process running one scenario. A one-shot scenario just ends with
 * its result (its progress events go to `onEvent`); a stepped one says `ready`
 * once its clients are connected, answers each `measure` with a `period`
 * event, and ends with its result when it gets `release`. The scale scenario
 * steps: its idle crowds stay connected while the parent reads the server's
 * memory, and its chatters measure their latency before and after the crowds
 * arrive.
 */
export class LoadSession {
  private readonly child = startLoadProcess();
  private readonly events: LoadEvent[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  /** The scenario's result, once released (rejects if the process fails). */
  readonly result: Promise<LoadResult>;

  /**
   * Starts the process and sends it its scenario.
   *
   * @param request - the scenario
   * @param timeoutMs - the process is killed, and every wait rejected, after this long
   * @param onEvent - if given, receives every progress event as it comes
   *   (instead of {@link LoadSession.next})
   */
  constructor(
    request: LoadRequest,
    timeoutMs: number,
    private readonly onEvent?: (event: LoadProgress) => void,
  ) {
    const what = 'target' in request ? `${request.type} ${request.target}` : request.type;
    this.result = new Promise((resolve, reject) => {
      let done = false;
      const fail = (error: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.failure ??= error;
        this.child.kill('SIGKILL');
        reject(this.failure);
        this.wake();
      };
      const timer = setTimeout(
        () => fail(new Error(`load process (${what}) did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.child.on('message', (event: LoadEvent) => {
        if (event.type === 'result') {
          done = true;
          clearTimeout(timer);
          resolve(event.result);
        } else if (event.type === 'error') {
          fail(new Error(`load process (${what}): ${event.message}`));
        } else if (this.onEvent) {
          this.onEvent(event);
        } else {
          this.events.push(event);
          this.wake();
        }
      });
      this.child.once('error', fail);
      this.child.once('exit', (code, signal) =>
        fail(new Error(`load process (${what}) exited (${code ?? signal}) without a result`)),
      );
    });
    // A failure is reported by the next wait (or by `result`); never as an unhandled rejection.
    this.result.catch(() => {});
    this.child.send(request);
  }

  /**
   * Waits for the next event of the given type (earlier events of other types are dropped).
   *
   * @param type - `ready` or `period`
   * @throws the process's failure, if it fails first
   */
  async next<T extends LoadEvent['type']>(type: T): Promise<Extract<LoadEvent, { type: T }>> {
    for (;;) {
      if (this.failure) throw this.failure;
      const event = this.events.shift();
      if (event?.type === type) return event as Extract<LoadEvent, { type: T }>;
      if (event === undefined) await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /**
   * Sends a command to the running scenario.
   *
   * @param command - `measure` or `release`
   */
  send(command: LoadCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  /** The load process's id (undefined if it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the process if it is still running (for clean-up after a failure). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
