// Stage 3: a worker that dies mid-task takes down one task, not the server.
// The task is in stage3-threads/README.md, section "Exercises".
import type { CheckContext, Exercise } from '../../kit/check';
import { expectMatch, expectSame } from '../../kit/expect';
import { connectLines, type LineSocket } from '../../kit/lines';
import { startServerProcess } from '../../kit/process';

/**
 * A pool-mode server with ONE worker, in its own process (a learner's crash
 * that takes the whole server down must fail the check, not the runner), and
 * a way to connect clients to it.
 */
async function startServer(ctx: CheckContext): Promise<() => Promise<LineSocket>> {
  const args = ['--port', '0', '--workers', '1', '--cost', '4'];
  const server = await startServerProcess(ctx, 'stage3-threads/bin/server.ts', args);
  return () => connectLines(ctx, server.port);
}

async function reply(client: LineSocket, command: string): Promise<string> {
  client.send(`${command}\n`);
  return client.next();
}

const UNAVAILABLE = /^! SERVICE_UNAVAILABLE: /;
const HASH = /^\$2[aby]\$04\$/;

export const exercise: Exercise = {
  title: 'A crash command: a worker dies, the server lives on',
  readme: 'stage3-threads/README.md',
  checks: [
    {
      name: '"crash" is answered with "! SERVICE_UNAVAILABLE: ..." and the connection stays open',
      hint: 'send a task that makes the worker call process.exit(1); the pool rejects that task',
      async run(ctx) {
        const connect = await startServer(ctx);
        const client = await connect();
        expectMatch(await reply(client, 'crash'), UNAVAILABLE, 'the answer to "crash"');
        expectSame(await reply(client, 'ping'), 'pong', 'the answer to "ping" after the crash');
      },
    },
    {
      name: 'the dead worker is replaced: hashes still work, for everyone, crash after crash',
      hint: 'never process.exit() on the event loop: only a worker may die (WorkerPool respawns it)',
      async run(ctx) {
        const connect = await startServer(ctx);
        const a = await connect();
        const b = await connect();
        for (let round = 1; round <= 2; round++) {
          expectMatch(await reply(a, 'crash'), UNAVAILABLE, `crash number ${round}`);
          expectMatch(await reply(a, 'hash one'), HASH, `a's hash after crash ${round}`);
          expectMatch(await reply(b, 'hash two'), HASH, `b's hash after crash ${round}`);
        }
      },
    },
  ],
};
