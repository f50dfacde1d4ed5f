// Stage 3: a `fib N` command computed in a worker thread. The task is in
// stage3-threads/README.md, section "Exercises".
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { connectLines, type LineSocket } from '../../kit/lines';
import { startServerProcess } from '../../kit/process';

/**
 * A pool-mode server (the default) with one worker, in its own process (see
 * kit/process.ts: a fib computed on the event loop must not freeze the
 * runner), and a client connected to it.
 */
async function connectClient(ctx: CheckContext): Promise<LineSocket> {
  const args = ['--port', '0', '--workers', '1', '--cost', '4'];
  const server = await startServerProcess(ctx, 'stage3-threads/bin/server.ts', args);
  return connectLines(ctx, server.port);
}

async function expectReply(client: LineSocket, expected: string | RegExp, after: string) {
  const line = await client.next();
  const ok = typeof expected === 'string' ? line === expected : expected.test(line);
  assert.ok(ok, `after "${after}" got ${JSON.stringify(line)}, expected ${String(expected)}`);
}

export const exercise: Exercise = {
  title: 'A fib N command, computed in a worker thread',
  readme: 'stage3-threads/README.md',
  checks: [
    {
      name: '"fib N" is answered with the Nth Fibonacci number',
      hint: 'parse "fib N" in src/commands.ts and reply with the number as plain text, e.g. "55"',
      async run(ctx) {
        const client = await connectClient(ctx);
        const cases: [number, string][] = [
          [0, '0'],
          [1, '1'],
          [2, '1'],
          [10, '55'],
          [25, '75025'],
        ];
        for (const [n, answer] of cases) {
          client.send(`fib ${n}\n`);
          await expectReply(client, answer, `fib ${n}`);
        }
      },
    },
    {
      name: 'fib runs off the event loop: a ping sent right after it is answered first',
      hint: 'hand fib to a WorkerPool (a new worker script that calls serveTasks), as hash does',
      async run(ctx) {
        const client = await connectClient(ctx);
        // One write, two commands: computed on the event loop, fib would be
        // answered before the ping is even read; in a worker, pong comes first.
        client.send('fib 27\nping\n');
        await expectReply(client, 'pong', 'fib 27 then ping');
        await expectReply(client, '196418', 'fib 27 then ping');
      },
    },
    {
      name: 'a bad N gets "! BAD_FRAME: ..." and the connection stays open',
      hint: 'accept only whole numbers from 0 to 50; anything else is a ChatError BAD_FRAME',
      async run(ctx) {
        const client = await connectClient(ctx);
        for (const bad of ['fib', 'fib x', 'fib -1', 'fib 2.5', 'fib 51']) {
          client.send(`${bad}\n`);
          await expectReply(client, /^! BAD_FRAME: /, bad);
        }
        client.send('hash hunter2\n'); // the other commands still work
        await expectReply(client, /^\$2[aby]\$04\$/, 'hash hunter2');
        client.send('fib 50\n'); // the largest allowed N must not be refused...
        client.send('ping\n'); // ...but it may take a while, so do not wait for it
        await expectReply(client, 'pong', 'fib 50 then ping');
      },
    },
  ],
};
