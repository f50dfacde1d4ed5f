/**
 * The idle-connections scenario, run inside the load process: open many
 * clients that then say nothing, and hold them open while the parent process
 * reads the server's memory.
 *
 * "Idle" starts after the crowd is synchronised (every client is in the
 * server's room). The clients keep reading, so notices the server sends
 * (stage 4 announces every join to everyone) never pile up in its queues.
 *
 * @module
 */
import { Crowd } from './crowd';
import type { RunFiles } from './run-files';
import type { LoadEndpoint } from './load-client';
import type { Target } from './targets';

/** What the idle scenario reports once its clients are closed again. */
export interface IdleResult {
  /** Clients that were connected and admitted. */
  opened: number;
  /** Clients the server closed while they sat idle (should be 0). */
  disconnected: number;
}

/**
 * Opens `count` idle clients, calls `hold` once the server has admitted all of
 * them, and closes them when `hold` resolves.
 *
 * @param target - the server's protocol
 * @param endpoint - where it listens
 * @param count - how many clients
 * @param files - the run's files (the room key)
 * @param hold - runs while every client is connected and idle (the parent measures then)
 * @returns how many clients were opened, and how many the server dropped
 */
export async function runIdle(
  target: Target,
  endpoint: LoadEndpoint,
  count: number,
  files: RunFiles,
  hold: () => Promise<void>,
): Promise<IdleResult> {
  const crowd = await Crowd.open(target, endpoint, count, () => {}, files);
  try {
    await crowd.sync();
    await hold();
    return { opened: crowd.clients.length, disconnected: crowd.closedCount() };
  } finally {
    crowd.close();
  }
}
