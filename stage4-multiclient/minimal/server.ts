// Stage 4, the smallest version: a chat room. Every line a client sends is
// written to every other client, prefixed with the sender's ip:port.
// Try it: `npm run stage4:minimal`, then `nc 127.0.0.1 5050` in two or three
// terminals, and type.
//
// What the real stage (src/server.ts, shared/src/room.ts) adds, and why:
// - a cap on each member's send queue: write() never blocks, so here a
//   member that stops reading makes the server keep everything sent to it,
//   in memory, without limit (measured: 256 MiB of chat took the server from
//   74 to 416 MiB); the real room drops that member (SLOW_CONSUMER);
// - the line limit of stage 2: readline buffers a line that never ends;
// - no carriage return inside a line: readline here splits `a\rb` into two
//   messages; the real server refuses the line with BAD_FRAME;
// - one write per recipient for everything a read completed, not one per
//   line (measured: a tenth of the CPU time per delivered message);
// - setNoDelay, so small chat lines are not held back by Nagle's algorithm;
// - `[::1]:PORT` labels for IPv6, and a polite shutdown that tells everyone.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });
const room = new Set<net.Socket>();

function broadcast(line: string, except?: net.Socket): void {
  // write() queues the bytes and returns at once: a slow reader delays nobody.
  for (const member of room) if (member !== except) member.write(`${line}\n`);
}

const server = net.createServer((socket) => {
  // The label comes from the connection itself: a client cannot choose it.
  const label = `${socket.remoteAddress}:${socket.remotePort}`;
  room.add(socket);
  socket.write(`* welcome, you are ${label} (${room.size} online)\n`);
  broadcast(`* ${label} joined (${room.size} online)`, socket);

  const lines = readline.createInterface({ input: socket });
  lines.on('line', (line) => broadcast(`${label}: ${line}`, socket));
  // A reset is just a way to leave. readline passes the socket's errors on,
  // and an 'error' event nobody listens to would crash the server, and the
  // whole room with it.
  lines.on('error', () => {});
  // 'close' comes exactly once per socket, however the connection ended.
  socket.on('close', () => {
    room.delete(socket);
    broadcast(`* ${label} left (${room.size} online)`);
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
