// Stage 1: count the bytes the client sent. The task is in
// stage1-basic-server/README.md, section "Exercises".
import net from 'node:net';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { startServerProcess } from '../../kit/process';

/**
 * Runs `npm run stage1 -- --port 0` as a process (as a user would), connects,
 * sends `data` in pieces, closes our side, and returns the line the server
 * printed about it.
 */
async function sendAndReport(ctx: CheckContext, pieces: (string | Buffer)[]): Promise<string> {
  const server = await startServerProcess(ctx, 'stage1-basic-server/bin/server.ts', [
    '--port',
    '0',
  ]);
  // allowHalfOpen: the server says goodbye and ends its side at once; we
  // still want to send everything, then end ours.
  const socket = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
  ctx.defer(() => socket.destroy());
  socket.on('error', () => {});
  socket.resume();
  socket.once('connect', () => {
    for (const piece of pieces) socket.write(piece);
    socket.end();
  });
  try {
    return await server.stdout.waitFor(/the client sent/);
  } catch {
    throw new Error(
      `no "the client sent N bytes" line; the server printed: ${server.stdout.seen()}`,
    );
  }
}

export const exercise: Exercise = {
  title: 'Count the bytes the client sent',
  readme: 'stage1-basic-server/README.md',
  checks: [
    {
      name: 'after "héllo" and Enter, the server prints "the client sent 7 bytes"',
      hint: 'when the connection closes, print socket.bytesRead from the bin (or expose it on the handle)',
      async run(ctx) {
        expectSame(await sendAndReport(ctx, ['héllo\n']), 'the client sent 7 bytes', 'stdout');
      },
    },
    {
      name: 'a client that sends nothing gets "the client sent 0 bytes"',
      hint: 'print the line for every connection, even an empty one',
      async run(ctx) {
        expectSame(await sendAndReport(ctx, []), 'the client sent 0 bytes', 'stdout');
      },
    },
    {
      name: 'every byte counts, however many reads it takes (100 KiB in 25 writes)',
      hint: 'count at "close", not at the first "data": TCP delivers in pieces',
      async run(ctx) {
        const pieces = Array.from({ length: 25 }, () => Buffer.alloc(4096, 'x'));
        expectSame(await sendAndReport(ctx, pieces), 'the client sent 102400 bytes', 'stdout');
      },
    },
  ],
};
