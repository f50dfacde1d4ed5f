// Entry point for `npm run exercise`: with no argument, lists the exercises;
// with an id (`npm run exercise -- stage4/who`), runs its checks against this
// working tree and exits 0 only if all of them pass. `--root DIR` judges
// another tree instead (the solutions test uses it on a patched copy).
import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import path from 'node:path';
import { parseArgs } from 'node:util';
import { argumentError } from '../shared/src/cli';
import { listExercises, runExercise } from './kit/runner';

const USAGE = `usage: npm run exercise                  list the exercises
       npm run exercise -- STAGE/NAME      check your solution (e.g. stage4/who)
       npm run exercise -- STAGE/NAME --root DIR   check the tree at DIR instead`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    console.error(`error: ${argumentError(err).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const all = listExercises();
  const id = positionals[0];
  if (id === undefined) {
    console.log('Exercises that check themselves. Run one with: npm run exercise -- ID\n');
    const width = Math.max(...all.map((e) => e.id.length));
    for (const { id: name, exercise } of all) {
      console.log(`  ${name.padEnd(width)}  ${exercise.title}`);
    }
    console.log(
      '\nEach task is stated in its stage README, section "Exercises", or, when it has a' +
        '\nstarter file in exercises/core/ (every "write the core" task has one), at its top.' +
        '\nReference solutions are in exercises/solutions/: try first, then compare.',
    );
    return 0;
  }
  const listed = all.find((e) => e.id === id.replace(/\.check\.ts$/, ''));
  if (listed === undefined) {
    console.error(`no exercise "${id}"; run \`npm run exercise\` for the list`);
    return 2;
  }
  const root = path.resolve(values.root ?? path.join(__dirname, '..'));
  const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  const result = await runExercise(listed, root, { line: (t) => console.log(t), colour });
  return result.failed === 0 ? 0 : 1;
}

main().then(
  // Exit explicitly: code under test that failed a check may have left a
  // socket or a timer behind, and that must not keep the runner alive.
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
