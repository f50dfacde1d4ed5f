/**
 * `npm run test:soak [-- flags]`: runs the soak against stage 4 and stage 6,
 * prints one table of checks, and exits 1 if any failed (2 for a bad flag).
 * See soak/README.md.
 *
 * @module
 */
import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import { runMain } from '../shared/src/cli';
import { formatChecks, type Check } from './checks';
import { parseSoakOptions, USAGE } from './options';
import { runSoak } from './scenario';
import { stage4 } from './stage4';
import { stage6 } from './stage6';

runMain(async () => {
  const options = parseSoakOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  const say = (line: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const checks: Check[] = [];
  for (const stage of options.stages) {
    try {
      checks.push(...(await runSoak(stage === 'stage4' ? stage4 : stage6, options, say)));
    } catch (err) {
      // The server did not start, or the soak itself broke: a failed run, not a crash.
      checks.push({
        stage,
        name: 'run',
        ok: false,
        detail: (err as Error).message.split('\n')[0]!,
      });
    }
  }
  console.log(formatChecks(checks));
  const failed = checks.filter((c) => !c.ok);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (failed.length === 0) {
    console.log(`\nsoak passed: ${checks.length} checks in ${seconds} s`);
    return 0;
  }
  console.log(
    `\nsoak FAILED (${seconds} s): ${failed.map((c) => `${c.stage} ${c.name}`).join(', ')}`,
  );
  return 1;
});
