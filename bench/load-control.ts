/**
 * The load process, seen from both ends: the parent starts one per scenario
 * run (`LoadSession`), sends it a {@link LoadRequest}, answers its events and
 * collects its result; the scenario inside talks back through a
 * {@link ScenarioControl} (load-process.ts is the entry point).
 *
 * Why a separate process: on a 2-core machine the server under test gets one
 * core and the load generator the other. Were the load clients in the
 * benchmark's own process, or the server's, each would steal the other's
 * event loop and the numbers would measure the contention.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { withOpenFileLimit } from './machine';
import type { RunFiles } from './run-files';
import type { LatencySummary } from './stats';
import type { LoadEndpoint } from './target';

/** The repository root: every process the benchmark starts runs from here. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** One scenario run for the load process (each scenario's module defines its `job`). */
export interface LoadRequest {
  /** Which scenario (see load-process.ts). */
  type: 'fanout' | 'idle' | 'logins' | 'burst' | 'scale-idle' | 'scale-active';
  /** The target whose load clients to use, by name (not for the login scenarios). */
  target?: string;
  /** Where the server listens. */
  endpoint: LoadEndpoint;
  /** The run's files. */
  files: RunFiles;
  /** The scenario's parameters. */
  job: object;
}

/** What the parent tells a scenario that is already running. */
export type LoadCommand = { type: 'release' } | { type: 'measure' };

/** What a running scenario tells the parent before its result. */
export type LoadProgress =
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'ready' }
  | { type: 'period'; latency: LatencySummary; lost: number };

/** Everything the load process sends the parent. */
export type LoadEvent =
  LoadProgress | { type: 'result'; result: unknown } | { type: 'error'; message: string };

/** How a running scenario talks to the parent. */
export interface ScenarioControl {
  /** Sends a progress event. */
  send(event: LoadProgress): Promise<void>;
  /** The parent's next command. */
  next(): Promise<LoadCommand>;
  /** Marks the start or the end of the measured period (the parent meters the server then). */
  mark(phase: 'start' | 'end'): void;
  /** Says `ready`, then waits for `release` (ignoring `measure`). */
  hold(): Promise<void>;
}

/**
 * One load process running one scenario. A one-shot scenario just ends with
 * its result (marks go to `onMark`); a stepped one says `ready` once its
 * clients are connected, answers each `measure` with a `period`, and ends
 * with its result on `release` (the idle and scale scenarios: their crowds
 * stay connected while the parent reads the server's memory).
 */
export class LoadSession<R = unknown> {
  // Its open-file limit raised (machine.ts): one may hold thousands of sockets.
  private readonly child = (() => {
    const args = ['--import', 'tsx', path.join(__dirname, 'load-process.ts')];
    const { command, args: wrapped } = withOpenFileLimit(process.execPath, args);
    return spawn(command, wrapped, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  })();
  private readonly events: LoadProgress[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  /** The scenario's result, once it ends (rejects if the process fails). */
  readonly result: Promise<R>;

  /**
   * @param timeoutMs - the process is killed, and every wait rejected, after this long
   * @param onMark - hears the marks of the measured period
   */
  constructor(request: LoadRequest, timeoutMs: number, onMark?: (phase: 'start' | 'end') => void) {
    const what = `load process (${request.type}${request.target ? ` ${request.target}` : ''})`;
    this.result = new Promise<R>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.failure ??= new Error(`${what}${why}`);
        this.kill();
        reject(this.failure);
        this.wake();
      };
      const timer = setTimeout(() => fail(` did not finish within ${timeoutMs} ms`), timeoutMs);
      this.child.on('message', (event: LoadEvent) => {
        if (event.type === 'result') {
          clearTimeout(timer);
          resolve(event.result as R);
        } else if (event.type === 'error') {
          fail(`: ${event.message}`);
        } else if (event.type === 'mark') {
          onMark?.(event.phase);
        } else {
          this.events.push(event);
          this.wake();
        }
      });
      this.child.once('error', (err) => fail(`: ${err.message}`));
      this.child.once('exit', (code, signal) =>
        fail(` exited (${code ?? signal}) without a result`),
      );
    });
    // A failure is reported by the next wait (or by `result`), never as an unhandled rejection.
    this.result.catch(() => {});
    this.child.send(request);
  }

  /** Waits for the next event of this type (earlier ones of other types are dropped); throws the process's failure. */
  async next<T extends LoadProgress['type']>(type: T): Promise<Extract<LoadProgress, { type: T }>> {
    for (;;) {
      if (this.failure) throw this.failure;
      const event = this.events.shift();
      if (event?.type === type) return event as Extract<LoadProgress, { type: T }>;
      if (event === undefined) await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Sends `measure` or `release` to the running scenario. */
  send(command: LoadCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  /** The load process's id (undefined if it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the process if it is still running (clean-up after a failure). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
