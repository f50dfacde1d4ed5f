// Stage 1, the smallest version: accept one connection, print both of its
// ends, say goodbye, exit. Try it: `npm run stage1:minimal`, then, in another
// terminal, `nc 127.0.0.1 5050`.
//
// What the real stage (src/server.ts, bin/server.ts) adds, and why:
// - an 'error' listener on the socket: a client that resets the connection
//   would otherwise crash the server with an uncaught exception;
// - a deadline for the client to close its side: here a client that never
//   hangs up keeps the process alive forever;
// - `[::1]:5050` for IPv6 (printed bare, `::1:5050`, the port looks like part
//   of the address), and what `::ffff:127.0.0.1` means;
// - a one-line LISTEN_FAILED error instead of a stack trace when the port is
//   taken, and --host, PORT, --help, like every server in this course.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });

const server = net.createServer((socket) => {
  // The kernel has completed the client's handshake (accept): `socket` is a
  // new, connected socket, and it knows both ends of the conversation.
  console.log(
    `client ${socket.remoteAddress}:${socket.remotePort} ` +
      `connected to server ${socket.localAddress}:${socket.localPort}`,
  );
  socket.end('goodbye\n'); // our last bytes, then FIN: "I have nothing more to say"
  server.close(); // stop listening; the process exits once this connection is closed
});

// Port 0 asks the OS for any free port: print the real one.
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
