// Stage 2, the smallest version, the server: one client and one operator
// take turns. The client sends a line; you, the operator, type the reply
// here; then it is the client's turn again.
//   npm run stage2:minimal            terminal 1: the server (you type replies)
//   npm run stage2:minimal:client     terminal 2: the client (you type messages)
//
// What the real stage (src/server.ts, src/turns.ts) adds, and why:
// - surviving a client that resets the connection: here readline passes the
//   socket's error on, nobody listens for it, and the server crashes;
// - a line limit (4 KiB): readline keeps buffering a line that never ends,
//   so one client can fill the server's memory; lines are rejected with
//   FRAME_TOO_LARGE, never truncated;
// - strict UTF-8: invalid bytes get BAD_UTF8 instead of silently becoming
//   U+FFFD replacement characters;
// - clients waiting in line: here the server serves one client and exits;
//   the real one queues the others (paused, their bytes unread);
// - a client that leaves while the operator is typing: here the reply is
//   written to a closed socket; the real one notices and stops waiting;
// - error lines with stable codes, notices, and a clean shutdown.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });
// The operator's keyboard, read one line at a time, only when it is our turn.
const operator = readline.createInterface({ input: process.stdin });
const keyboard = operator[Symbol.asyncIterator]();

const server = net.createServer(async (socket) => {
  server.close(); // one conversation, then exit
  // readline is a newline decoder: it joins a line that arrives in several
  // reads and splits several lines that arrive in one.
  for await (const line of readline.createInterface({ input: socket })) {
    console.log(`client: ${line}`); // the client's turn is over...
    const reply = await keyboard.next(); // ...the operator's turn: the client waits
    if (reply.done) break; // the operator pressed Ctrl-D
    socket.write(`${reply.value}\n`); // the client's turn again
  }
  socket.end();
  operator.close(); // stop reading the keyboard, so the process can exit
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
