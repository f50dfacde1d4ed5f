/**
 * `npm run bench`: measures every server under test against the raw baseline
 * in one run, prints the tables, the ratios and whether the goals were met,
 * and writes the same as docs/benchmarks.md with charts in docs/benchmarks/
 * (`--report FILE` elsewhere, `--no-report` not at all). See bench/README.md
 * for what is measured and how.
 *
 * @module
 */
import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import { writeFileSync } from 'node:fs';
import { runMain } from '../shared/src/cli';
import { runBench } from './bench';
import { parseBenchArgs, USAGE } from './options';
import { formatReport, writeMarkdownReport } from './report';
import { compare } from './verdicts';

runMain(async () => {
  const argv = process.argv.slice(2);
  const options = parseBenchArgs(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  // The report names the command that produced it, so a reader can run it again.
  const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv.map(quote)] : [])];
  const result = await runBench(options, (line) => console.log(line), command.join(' '));
  console.log('');
  console.log(formatReport(result));
  if (options.report !== null) {
    for (const file of writeMarkdownReport(result, options.report)) console.log(`wrote ${file}`);
  }
  if (options.json !== null) {
    const targets = result.targets.map((t) => t.name);
    const report = { ...result, targets, comparisons: compare(result) };
    writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${options.json}`);
  }
  return 0;
});

/** Quotes an argument for a shell if it needs it. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
