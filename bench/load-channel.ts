/**
 * The words a running scenario and the parent exchange while it runs: the
 * parent's commands and the scenario's progress events. Kept apart from
 * load-control.ts (which also names every scenario's result) so that a
 * scenario can speak them without importing the parent's side.
 *
 * @module
 */
import type { LatencySummary } from './stats';

/** What the parent tells a scenario that is already running. */
export type LoadCommand = { type: 'release' } | { type: 'measure' };

/** What a running scenario tells the parent before its result. */
export type LoadProgress =
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'ready' }
  | { type: 'period'; latency: LatencySummary; lost: number };

/** How the parent and a running scenario talk (see load-process.ts). */
export interface ScenarioControl {
  /** Sends a progress event to the parent. */
  send(event: LoadProgress): Promise<void>;
  /** The parent's next command. */
  next(): Promise<LoadCommand>;
}
