// Stage 2: tell waiting clients their place in line. The task is in
// stage2-client-server/README.md, section "Exercises".
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import type { CheckContext, Exercise } from '../../kit/check';
import { connectLines, type LineSocket } from '../../kit/lines';

/** The stage 2 server, as this exercise uses it (its API does not change). */
interface Stage2 {
  startServer(options: {
    port: number;
    reply: (text: string) => string;
    onEvent: (event: { type: string; peer: string }) => void;
  }): Promise<{ port: number; close(): Promise<void> }>;
}

/** A server that echoes, and a way to wait until it has seen a client connect. */
async function start(ctx: CheckContext) {
  const { startServer } = ctx.load<Stage2>('stage2-client-server/src/server');
  const connected = new Set<string>();
  const events = new EventEmitter();
  const server = await startServer({
    port: 0,
    reply: (text) => `echo ${text}`,
    onEvent: (event) => {
      if (event.type === 'connected') connected.add(event.peer);
      events.emit('event');
    },
  });
  ctx.defer(() => server.close());
  // Connects a client and waits for the server's 'connected' event for it: from
  // then on the client is in line, and what happens next is in a known order.
  const join = async () => {
    const client = await connectLines(ctx, server.port);
    const peer = `127.0.0.1:${client.localPort}`;
    while (!connected.has(peer)) await once(events, 'event');
    return client;
  };
  return { join };
}

const PLACE = (n: number) => `* you are number ${n} in line`;
const SERVED = /^\* you are 127\.0\.0\.1:\d+; /;

/** The next line must be exactly `expected`. */
async function expectLine(client: LineSocket, expected: string | RegExp, who: string) {
  const line = await client.next();
  const ok = typeof expected === 'string' ? line === expected : expected.test(line);
  assert.ok(ok, `${who} got ${JSON.stringify(line)}, expected ${String(expected)}`);
}

export const exercise: Exercise = {
  title: 'Tell waiting clients their place in line',
  readme: 'stage2-client-server/README.md',
  checks: [
    {
      name: 'a client who must wait is told "* you are number 1 in line" before anything else',
      hint: 'when a client joins the waiting line, send it its place at once (waiting.length)',
      async run(ctx) {
        const { join } = await start(ctx);
        const a = await join();
        await expectLine(a, SERVED, 'the first client (served at once)');
        const b = await join();
        a.socket.end(); // a leaves: b is served now, and its place came first
        await expectLine(b, PLACE(1), 'the waiting client');
        await expectLine(b, SERVED, 'the waiting client, once served');
      },
    },
    {
      name: 'places are updated as the line moves: 2, then 1, then served',
      hint: 'when the line moves, tell every client still waiting its new place, in order',
      async run(ctx) {
        const { join } = await start(ctx);
        const a = await join();
        await expectLine(a, SERVED, 'the first client');
        const b = await join();
        const c = await join();
        a.socket.end();
        await expectLine(b, PLACE(1), 'the second client');
        await expectLine(b, SERVED, 'the second client, once the first left');
        await expectLine(c, PLACE(2), 'the third client');
        await expectLine(c, PLACE(1), 'the third client, once the first left');
        b.send('hello\n'); // the conversation with b still works as before
        await expectLine(b, /: echo hello$/, 'the second client');
        b.socket.end();
        await expectLine(c, SERVED, 'the third client, once the second left');
      },
    },
  ],
};
