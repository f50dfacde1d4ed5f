// Stage 1: serve N connections, then stop. The task is in
// stage1-basic-server/README.md, section "Exercises".
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { connectLines, tryConnect, type LineSocket } from '../../kit/lines';

/** The part of the stage 1 server this exercise asks for. */
interface Stage1 {
  startServer(options: { port?: number; connections?: number }): Promise<{
    port: number;
    closed: Promise<void>;
    close(): Promise<void>;
  }>;
}

async function start(ctx: CheckContext, connections?: number) {
  const { startServer } = ctx.load<Stage1>('stage1-basic-server/src/server');
  const server = await startServer(
    connections === undefined ? { port: 0 } : { port: 0, connections },
  );
  ctx.defer(() => server.close());
  return server;
}

/** Reads the goodbye and checks that it names this client's own end. */
async function expectGoodbye(client: LineSocket): Promise<void> {
  const line = await client.next();
  assert.ok(
    line.includes(`hello 127.0.0.1:${client.localPort}`),
    `expected a goodbye naming 127.0.0.1:${client.localPort}, got ${JSON.stringify(line)}`,
  );
  await client.closed;
}

export const exercise: Exercise = {
  title: 'Serve N connections, then stop',
  readme: 'stage1-basic-server/README.md',
  checks: [
    {
      name: 'with { connections: 3 } three clients, one after another, each get their goodbye',
      hint: 'count accepted connections, and call server.close() only when the count reaches N',
      async run(ctx) {
        const server = await start(ctx, 3);
        for (let i = 1; i <= 3; i++) {
          const code = await tryConnectLines(ctx, server.port);
          if (typeof code === 'string') assert.fail(`connection ${i} of 3 failed: ${code}`);
          await expectGoodbye(code);
        }
      },
    },
    {
      name: 'after the third connection it stops listening, and `closed` resolves',
      hint: 'once N connections were accepted, stop listening; `closed` waits for the last one',
      async run(ctx) {
        const server = await start(ctx, 3);
        for (let i = 0; i < 3; i++) await expectGoodbye(await connectLines(ctx, server.port));
        await server.closed;
        expectSame(await tryConnect(server.port), 'ECONNREFUSED', 'a 4th client connecting');
      },
    },
    {
      name: 'three clients connected at the same time are all served',
      hint: 'several clients can be accepted in one turn of the event loop: serve each up to N',
      async run(ctx) {
        const server = await start(ctx, 3);
        const clients = await Promise.all([1, 2, 3].map(() => connectLines(ctx, server.port)));
        await Promise.all(clients.map(expectGoodbye));
        await server.closed;
      },
    },
    {
      name: 'without the option it still serves exactly one connection',
      hint: 'the default stays 1: `npm run stage1` must behave as before',
      async run(ctx) {
        const server = await start(ctx);
        await expectGoodbye(await connectLines(ctx, server.port));
        await server.closed;
        expectSame(await tryConnect(server.port), 'ECONNREFUSED', 'a 2nd client connecting');
      },
    },
  ],
};

/** Connects, or returns the error code when the server refuses. */
async function tryConnectLines(ctx: CheckContext, port: number): Promise<LineSocket | string> {
  try {
    return await connectLines(ctx, port);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}
