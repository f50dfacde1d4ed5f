/**
 * Runs a stage's server as its own process, as `npm run` would.
 *
 * Most checks start the server in the runner's own process: fast, and a
 * failure shows a clear stack. A server whose lesson is blocking the event
 * loop (stage 3) cannot run there: code that computes for a minute on the
 * event loop would freeze the runner too, deadline included. In its own
 * process it only stops answering, and the check fails on time.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { CheckContext } from './check';
import { Lines } from './lines';

/** A server process and what it printed. */
export interface ServerProcess {
  /** The port from its `listening on HOST:PORT` line. */
  port: number;
  /** Its stdout, line by line. */
  stdout: Lines;
}

/**
 * Starts `tsx ENTRY ARGS` in the tree under test and waits for its
 * `listening on HOST:PORT` line. The process (and its group) is stopped after
 * the check.
 *
 * @param ctx - the check's context
 * @param entry - the entry file, relative to the tree, e.g. `stage3-threads/bin/server.ts`
 * @param args - command-line arguments (include `--port 0`)
 * @throws Error if the process exits before it is listening
 */
export async function startServerProcess(
  ctx: CheckContext,
  entry: string,
  args: string[],
): Promise<ServerProcess> {
  const tsx = path.join(ctx.root, 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [entry, ...args], {
    cwd: ctx.root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: tsx and node are stopped together
  });
  const exited = once(child, 'exit');
  ctx.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // a blocked event loop would not handle SIGTERM
    } catch {
      /* already gone */
    }
    await exited;
  });
  const stdout = new Lines(child.stdout);
  const stderr = new Lines(child.stderr);
  try {
    const line = await stdout.waitFor(/listening on /);
    return { port: Number(/:(\d+)\s*$/.exec(line)?.[1]), stdout };
  } catch {
    throw new Error(`${entry} exited before listening; stderr: ${stderr.seen()}`);
  }
}
