/**
 * The full fuzz campaign: `npm run test:fuzz [-- --seed S --runs N --only NAME --path P]`.
 *
 * Runs every target (or those whose name starts with `--only`) with the
 * target's full number of cases (or `--runs`), from a random seed unless
 * `--seed` is given. Prints the seed first, then per target the cases run,
 * the time and the cases per second; on a failure, fast-check's report (the
 * seed, the path and the shrunk counterexample) and the command that replays
 * it. Exits 1 if any target failed, 2 on a usage error.
 */
import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import { argumentError, parseOptions } from '../shared/src/cli';
import { ALL_TARGETS } from './targets';

const USAGE = `usage: npm run test:fuzz -- [--seed S] [--runs N] [--only NAME] [--path P]
  --seed S     fast-check seed (default: random, printed first so a run can be replayed)
  --runs N     cases per target (default: each target's full number)
  --only NAME  only the targets whose name starts with NAME
  --path P     replay one counterexample (fast-check's path, printed with a failure)
targets: ${ALL_TARGETS.map((t) => t.name).join(', ')}`;

function usage(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseOptions(process.argv.slice(2), {
      seed: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      path: { type: 'string' },
    });
  } catch (err) {
    usage(argumentError(err).message);
  }
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer, got ${values.seed}`);
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && !(Number.isSafeInteger(runs) && runs > 0)) {
    usage(`--runs must be a positive integer, got ${values.runs}`);
  }
  const only = values.only;
  const targets = ALL_TARGETS.filter((t) => only === undefined || t.name.startsWith(only));
  if (targets.length === 0) usage(`no target matches --only ${only}`);

  console.log(`fuzz campaign, seed ${seed} (replay: npm run test:fuzz -- --seed ${seed})`);
  let failures = 0;
  const started = performance.now();
  for (const target of targets) {
    const numRuns = runs ?? target.fullRuns;
    const campaign = await target.prepare('full');
    const t0 = performance.now();
    let outcome;
    try {
      outcome = await campaign.check({ seed, numRuns, path: values.path });
    } finally {
      await campaign.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const rate = Math.round(outcome.numRuns / seconds);
    const stats = Object.entries(outcome.stats ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(
      `${outcome.failed ? 'FAIL' : 'ok  '} ${target.name.padEnd(22)} ${String(outcome.numRuns).padStart(7)} cases ` +
        `${seconds.toFixed(1).padStart(6)} s ${String(rate).padStart(7)} cases/s${stats ? `  (${stats})` : ''}`,
    );
    if (outcome.failed) {
      failures++;
      console.log(outcome.report);
      const replay = `npm run test:fuzz -- --only ${target.name} --seed ${seed}`;
      console.log(`replay: ${replay} --runs ${numRuns}`);
      if (outcome.path !== undefined)
        console.log(`just the counterexample: ${replay} --path "${outcome.path}"`);
      console.log();
    }
  }
  const total = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${failures === 0 ? 'all targets passed' : `${failures} target(s) failed`} in ${total} s (seed ${seed})`,
  );
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
