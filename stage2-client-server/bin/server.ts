// Entry point for `npm run stage2`: parse the command line, then wire the
// operator's console to the server. The logic lives in src/, where tests reach it.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { keepServingWithoutOutput, parseCommandLine, runMain } from '../../shared/src/cli';
import { peerName } from '../src/messages';
import { OperatorConsole } from '../src/operator';
import { startServer } from '../src/server';

const USAGE = `usage: npm run stage2 -- [--host ADDRESS] [--port PORT]

Serves one client at a time, turn by turn: each line a client sends is shown
here, and the line you type is the reply. When stdin is not a terminal, each
stdin line is the next reply. Ctrl-D or Ctrl-C stops the server.`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const operator = new OperatorConsole({
    input: process.stdin,
    output: process.stdout,
    interactive,
  });
  const server = await startServer({
    ...endpoint,
    reply: operator.reply,
    onEvent: (event) => operator.show(event),
  }).catch((err: unknown) => {
    operator.close();
    throw err;
  });
  // Before "listening on": whoever reads that line may signal at once, and a
  // signal with no listener kills the process. `on`, not `once`: under npm run
  // the signal can arrive twice (see onShutdownSignal in shared/src/cli.ts).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void server.close());
  }
  operator.print(`listening on ${peerName(server.host, server.port)}`);
  void operator.ended.then(() => server.close());
  await server.closed;
  operator.close();
  operator.print('server stopped');
  return 0;
});
