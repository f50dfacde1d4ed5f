/**
 * `npm run stage4:client [-- --host H --port P]`: the stage 4 chat client.
 * Only parses the command line and calls runClient.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { runClient } from '../src/client';

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env);
  if (values.help) {
    console.log('usage: npm run stage4:client -- [--host HOST] [--port PORT]');
    return 0;
  }
  return runClient(endpoint);
});
