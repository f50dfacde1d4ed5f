/**
 * `npm run stage5 [-- --host H --port P --max-queue-bytes N]`: the stage 5 chat server.
 * Only parses the command line and calls startServer. It takes no key: it
 * relays boxes it cannot open.
 */
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { startServer } from '../src/server';

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    'max-queue-bytes': { type: 'string' },
  });
  if (values.help) {
    console.log('usage: npm run stage5 -- [--host HOST] [--port PORT] [--max-queue-bytes N]');
    return 0;
  }
  const maxQueueBytes = parseSize(values['max-queue-bytes']);
  const server = await startServer({
    ...endpoint,
    maxQueueBytes,
    log: (line) => console.log(line),
  });
  console.log(`listening on ${server.host}:${server.port}`);

  // Ctrl-C or a service manager's stop: tell every client, wait for their
  // connections to close, then exit 0.
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.log(`${signal}: shutting down`);
      void server.close().then(() => {
        console.log('closed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
});

function parseSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new ChatError('BAD_ARGUMENT', `invalid --max-queue-bytes "${text}" (expected bytes > 0)`);
  }
  return Number(text);
}
