// Entry point: `npm run stage3:server -- [--mode blocking|pool] [--workers N] [--cost N] [--port N]`.
// Only parses the command line and calls startServer; the logic lives in src/.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import os from 'node:os';
import { keepServingWithoutOutput, parseCommandLine, runMain } from '../../shared/src/cli';
import { formatEndpoint } from '../../shared/src/listen';
import { COST_RANGE, parseIntOption, parseMode } from '../src/options';
import { startServer } from '../src/server';

const USAGE = `usage: npm run stage3:server -- [options]
  --mode blocking|pool   hash on the event loop, or in worker threads (default pool)
  --workers N            worker threads in pool mode (default: CPU cores, ${os.availableParallelism()})
  --cost N               bcrypt cost, ${COST_RANGE.min}-${COST_RANGE.max} (default 10)
  --max-queue N          hashes allowed to wait for a worker (default 32)
  --host H --port P      where to listen (default 127.0.0.1:5050; --port 0 picks a free port)
then try: nc 127.0.0.1 5050   and type "ping" or "hash some password"`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    mode: { type: 'string' },
    workers: { type: 'string' },
    cost: { type: 'string' },
    'max-queue': { type: 'string' },
  });
  if (values.help) return void console.log(USAGE);
  const mode = parseMode(values.mode, 'pool');
  const workers = parseIntOption('workers', values.workers, {
    fallback: os.availableParallelism(),
    min: 1,
    max: 256,
  });
  const cost = parseIntOption('cost', values.cost, { fallback: 10, ...COST_RANGE });
  const maxQueue = parseIntOption('max-queue', values['max-queue'], {
    fallback: 32,
    min: 0,
    max: 100_000,
  });

  const server = await startServer({ ...endpoint, mode, workers, cost, maxQueue });
  const where = mode === 'pool' ? `in ${server.workers} worker threads` : 'on the event loop';
  // `on`, not `once`: Ctrl-C (or a kill of the process group) reaches this
  // process twice, directly and relayed by npm; a second signal with no
  // listener left would kill the process before close() finishes. And before
  // "listening on": whoever reads that line may signal at once.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  console.log(`mode ${mode}: bcrypt cost ${cost} hashes run ${where}`);
  console.log(`listening on ${formatEndpoint(server.host, server.port)}`);
  const signal = await signalled;
  console.log(`${signal}: closing`);
  await server.close();
  console.log('closed');
});
