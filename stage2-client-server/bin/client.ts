// Entry point for `npm run stage2:client`: parse the command line, connect,
// and run the session on this terminal (or pipe). The logic is in src/client.ts.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { startClient } from '../src/client';

const USAGE = `usage: npm run stage2:client -- [--host ADDRESS] [--port PORT]

Connects to a stage 2 server. Type a line, then wait for the reply before
typing the next. When stdin is not a terminal, each stdin line is sent in
turn and each reply is printed on stdout. Ctrl-D or Ctrl-C leaves.`;

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const client = await startClient({
    ...endpoint,
    input: process.stdin,
    output: process.stdout,
    log: interactive ? process.stdout : process.stderr,
    interactive,
  });
  // `on`, not `once`: under npm run the signal can arrive twice.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => client.close());
  }
  await client.done;
  return 0;
});
