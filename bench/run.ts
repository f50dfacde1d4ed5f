/**
 * `npm run bench`: measures every server under test against the raw baseline
 * in one run, and prints the table, the ratios and whether the goals were met.
 * See bench/README.md for what is measured and how.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { runMain } from '../shared/src/cli';
import { runBench } from './bench';
import { parseBenchArgs, USAGE } from './options';
import { compare, formatReport } from './report';

runMain(async () => {
  const options = parseBenchArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const result = await runBench(options, (line) => console.log(line));
  console.log('');
  console.log(formatReport(result));
  if (options.json !== null) {
    const targets = result.targets.map((t) => t.name);
    const report = { ...result, targets, comparisons: compare(result) };
    writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${options.json}`);
  }
  return 0;
});
