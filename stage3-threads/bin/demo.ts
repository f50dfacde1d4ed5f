// Entry point: `npm run stage3 -- [--cost N] [--hashes N] [--workers N] [--clients N]`.
// Runs the same hashing load against the server twice, in blocking mode and in
// pool mode, in this process, and prints what a pinging client experienced.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import os from 'node:os';
import { parseOptions, runMain } from '../../shared/src/cli';
import type { HashMode } from '../src/hasher';
import { measureLoad, type LoadResult } from '../src/measure';
import { COST_RANGE, parseIntOption } from '../src/options';
import { startServer } from '../src/server';
import { ms, poolLabel, verdictLines } from '../src/verdicts';

const USAGE = `usage: npm run stage3 -- [--cost N] [--hashes N] [--workers N] [--clients N]
  --cost N      bcrypt cost, ${COST_RANGE.min}-${COST_RANGE.max} (default 10)
  --hashes N    hashes requested in each mode (default 24)
  --workers N   worker threads in pool mode (default: CPU cores, ${os.availableParallelism()})
  --clients N   connections asking for hashes (default: max(4, workers))`;

runMain(async () => {
  const values = parseOptions(process.argv.slice(2), {
    cost: { type: 'string' },
    hashes: { type: 'string' },
    workers: { type: 'string' },
    clients: { type: 'string' },
  });
  if (values.help) return void console.log(USAGE);
  const cost = parseIntOption('cost', values.cost, { fallback: 10, ...COST_RANGE });
  const hashes = parseIntOption('hashes', values.hashes, { fallback: 24, min: 1, max: 10_000 });
  const cores = os.availableParallelism();
  const workers = parseIntOption('workers', values.workers, { fallback: cores, min: 1, max: 256 });
  const clientsFallback = Math.max(4, workers);
  const clients = parseIntOption('clients', values.clients, {
    fallback: clientsFallback,
    min: 1,
    max: 1000,
  });

  // The load average says how much else wants these cores: on a busy machine
  // every number below is worse, the pool's most of all.
  const load = os.loadavg()[0]!.toFixed(1);
  console.log(
    `${hashes} bcrypt hashes (cost ${cost}) from ${clients} clients, ` +
      `while one more client pings every 10 ms; ${cores} CPU cores, load average ${load}\n`,
  );
  const results = new Map<HashMode, LoadResult>();
  for (const mode of ['blocking', 'pool'] as const) {
    const server = await startServer({ port: 0, mode, workers, cost, maxQueue: clients });
    try {
      results.set(mode, await measureLoad({ port: server.port, hashes, clients }));
    } finally {
      await server.close();
    }
  }

  const label = (mode: HashMode) => (mode === 'pool' ? poolLabel(workers) : 'blocking');
  const header = [
    'mode',
    'hashes/s',
    'ping p50',
    'ping max',
    'loop stall max',
    'CPU cores',
    'pings',
  ];
  const rows = [...results].map(([mode, r]) => [
    label(mode),
    r.hashesPerSecond.toFixed(1),
    ms(r.pingP50Ms),
    ms(r.pingMaxMs),
    ms(r.loopStallMaxMs),
    r.cpuCores.toFixed(2),
    String(r.pings),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  '),
    );
  }

  const blocking = results.get('blocking')!;
  const pool = results.get('pool')!;
  console.log('');
  // Each sentence is decided by the numbers above (see src/verdicts.ts).
  for (const line of verdictLines(blocking, pool, { workers, clients })) console.log(line);
  const errors = blocking.errors + pool.errors;
  if (errors > 0)
    console.log(`warning: ${errors} hash requests were refused (SERVICE_UNAVAILABLE)`);
});
