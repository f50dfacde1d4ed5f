// Stage 1, write the core: accept connections and name both ends of each.
// The task and the stub are in exercises/core/stage1/server.ts.
import assert from 'node:assert/strict';
import net from 'node:net';
import { withDeadline } from '../../../shared/src/deadline';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { LineSocket, tryConnect } from '../../kit/lines';

const STARTER = 'exercises/core/stage1/server.ts';

/** The stub's API (see the starter file). */
interface Core {
  startServer(options: {
    host?: string;
    port?: number;
    onConnection?: (ends: { client: string; server: string }) => void;
  }): Promise<{ port: number; close(): Promise<void> }>;
}

/** The learner's server on a free port, and every pair of ends it reported. */
async function start(ctx: CheckContext, host?: string) {
  const { startServer } = ctx.load<Core>(STARTER);
  const reported: { client: string; server: string }[] = [];
  const options = {
    port: 0,
    onConnection: (ends: (typeof reported)[number]) => reported.push(ends),
  };
  const server = await startServer(host === undefined ? options : { ...options, host });
  ctx.defer(() => server.close());
  return { server, reported };
}

/** Connects to `host:port` and reads the one line the server sends first. */
async function greeting(ctx: CheckContext, port: number, host = '127.0.0.1') {
  const socket = net.connect({ host, port });
  ctx.defer(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve).once('error', reject);
  });
  const client = new LineSocket(socket);
  const localPort = socket.localPort; // read now: a closed socket forgets it
  const line = await client.next().catch(() => {
    throw new Error(`the server sent no line before closing; it sent: ${client.seen()}`);
  });
  return { line, localPort, client };
}

/**
 * How long the connection may stay open once the greeting is in. A server
 * that ends the socket with the line closes it at once; one that only writes
 * the line never does, and must not hang the check for its whole 30 s.
 */
const CLOSE_DEADLINE_MS = 2_000;

/** Waits for the server to close (returns as soon as it does); fails after the deadline. */
async function closedSoon(client: LineSocket): Promise<void> {
  await withDeadline(client.closed, CLOSE_DEADLINE_MS).catch(() => {
    throw new Error(
      `the greeting came, but the connection was still open ${CLOSE_DEADLINE_MS / 1000} s later: ` +
        'the server must end the socket after the line (socket.end), not just write to it',
    );
  });
}

function expectGreeting(line: string, client: string, server: string): void {
  expectSame(line, `hello ${client}, you reached ${server}`, 'the line the client received');
}

export const exercise: Exercise = {
  title: 'Write the core: accept connections and name both ends of each',
  readme: 'stage1-basic-server/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'startServer({ port: 0 }) resolves with the real port, and a client can connect',
      hint: 'listen, and resolve in the listening callback with (server.address() as net.AddressInfo).port',
      async run(ctx) {
        const { server } = await start(ctx);
        assert.ok(
          Number.isInteger(server.port) && server.port > 0,
          `startServer resolved with port ${JSON.stringify(server.port)}: ask the server which port the OS gave it`,
        );
        expectSame(
          await tryConnect(server.port),
          null,
          'connecting to that port (null: it worked)',
        );
      },
    },
    {
      name: 'a client hears "hello CLIENT, you reached SERVER", then the connection closes',
      hint: "the client's end is socket.remoteAddress/remotePort, the server's end socket.localAddress/localPort; then socket.end(line)",
      async run(ctx) {
        const { server } = await start(ctx);
        const { line, localPort, client } = await greeting(ctx, server.port);
        expectGreeting(line, `127.0.0.1:${localPort}`, `127.0.0.1:${server.port}`);
        await closedSoon(client);
        expectSame(client.lines.length - 1, 0, 'lines after the greeting');
      },
    },
    {
      name: 'onConnection is told the same two ends: client first, then server',
      hint: 'call options.onConnection({ client, server }) for each connection, before you greet it',
      async run(ctx) {
        const { server, reported } = await start(ctx);
        const { localPort } = await greeting(ctx, server.port);
        assert.deepEqual(
          reported,
          [{ client: `127.0.0.1:${localPort}`, server: `127.0.0.1:${server.port}` }],
          `onConnection was called with ${JSON.stringify(reported)}`,
        );
      },
    },
    {
      name: 'three clients connecting at once are each greeted with their own port',
      hint: "keep the server listening: every 'connection' event is one more accepted client",
      async run(ctx) {
        const { server, reported } = await start(ctx);
        const all = await Promise.all([1, 2, 3].map(() => greeting(ctx, server.port)));
        for (const { line, localPort } of all) {
          expectGreeting(line, `127.0.0.1:${localPort}`, `127.0.0.1:${server.port}`);
        }
        expectSame(reported.length, 3, 'calls to onConnection');
      },
    },
    {
      name: 'listening on every address (0.0.0.0), the server end is the address the client reached',
      hint: "server.address() is where the server listens (0.0.0.0); the connected socket's localAddress is where this client arrived",
      async run(ctx) {
        const { server } = await start(ctx, '0.0.0.0');
        const { line, localPort } = await greeting(ctx, server.port);
        expectGreeting(line, `127.0.0.1:${localPort}`, `127.0.0.1:${server.port}`);
      },
    },
    {
      name: 'over IPv6 both ends are written [::1]:PORT, in brackets',
      hint: 'an address that contains ":" is IPv6: write it as `[address]:port`',
      async run(ctx) {
        if (!(await ipv6LoopbackWorks())) return; // this machine has no ::1; nothing to check
        const { server } = await start(ctx, '::1');
        const { line, localPort } = await greeting(ctx, server.port, '::1');
        expectGreeting(line, `[::1]:${localPort}`, `[::1]:${server.port}`);
      },
    },
    {
      name: 'close() stops listening: the next client is refused',
      hint: 'close() calls server.close() and resolves in its callback',
      async run(ctx) {
        const { server } = await start(ctx);
        const { client } = await greeting(ctx, server.port);
        client.socket.destroy(); // close() waits for open connections: leave none
        await server.close();
        expectSame(await tryConnect(server.port), 'ECONNREFUSED', 'connecting after close()');
      },
    },
  ],
};

/** Whether this machine can listen on the IPv6 loopback address. */
function ipv6LoopbackWorks(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}
