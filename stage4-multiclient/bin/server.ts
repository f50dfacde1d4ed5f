/**
 * `npm run stage4 [-- --host H --port P --max-queue-bytes N]`: the stage 4 chat server.
 * Only parses the command line and calls startServer.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import {
  keepServingWithoutOutput,
  onShutdownSignal,
  parseCommandLine,
  parsePositiveInt,
  runMain,
} from '../../shared/src/cli';
import { formatEndpoint } from '../../shared/src/listen';
import { startServer } from '../src/server';

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    'max-queue-bytes': { type: 'string' },
  });
  if (values.help) {
    console.log('usage: npm run stage4 -- [--host HOST] [--port PORT] [--max-queue-bytes N]');
    return 0;
  }
  const maxQueueBytes = parsePositiveInt('--max-queue-bytes', values['max-queue-bytes']);
  const server = await startServer({
    ...endpoint,
    maxQueueBytes,
    log: (line) => console.log(line),
  });
  // Ctrl-C or a service manager's stop: say goodbye to every client, wait for
  // their connections to close, then exit 0. The listener goes in before
  // "listening on" is printed (see onShutdownSignal).
  const signal = onShutdownSignal();
  console.log(`listening on ${formatEndpoint(server.host, server.port)}`);
  console.log(`${await signal}: shutting down`);
  await server.close();
  console.log('closed');
  return 0;
});
