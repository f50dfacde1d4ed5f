// Stage 2, the smallest version, the client: send one line, wait for the
// reply, and only then send the next. Start the server first
// (`npm run stage2:minimal`), then `npm run stage2:minimal:client`.
//
// What the real stage (src/client.ts) adds, and why:
// - the same line limit and strict UTF-8 as the server (shared/src/framing.ts);
// - a prompt on a terminal, and "not your turn" when you type too early;
// - server lines told apart (a reply, a `* notice`, an `! ERROR`), and
//   control characters stripped before they reach your terminal;
// - a clear CONNECT_FAILED message instead of a stack trace.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });

async function main(): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port: Number(values.port) });
  const replies = readline.createInterface({ input: socket })[Symbol.asyncIterator]();
  for await (const line of readline.createInterface({ input: process.stdin })) {
    socket.write(`${line}\n`); // our turn: one line...
    const reply = await replies.next(); // ...then nothing until the answer comes
    if (reply.done) break; // the server hung up
    console.log(`server: ${reply.value}`);
  }
  socket.end(); // no more lines: FIN, and the server's loop ends too
}

void main();
