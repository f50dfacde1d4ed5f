/**
 * `npm run docs:generate` / `npm run docs:check`: every generated docs file, from one place.
 *
 *     tsx tools/generate.ts              write every generated file, print what changed
 *     tsx tools/generate.ts --check      write nothing; exit 1 listing stale files (CI)
 *     tsx tools/generate.ts --only NAME  run one generator (e.g. --only diffs)
 *
 * Generators run in the order of {@link GENERATORS}. A later one may read what
 * an earlier one produced in the same run (the chapters include the transcripts),
 * so reads go through an overlay of this run's output before the disk: `--check`
 * therefore compares against what a full `docs:generate` would write.
 */

import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ChatError, isChatError } from '../shared/src/errors';
import { chaptersGenerator, type ReadRepoFile } from './chapters';
import { diffsGenerator } from './diffs';
import type { GeneratedFile, Generator } from './generator';
import { transcriptsGenerator } from './transcripts';
import { e2eVectors } from './e2e-vectors';
import { errorReference } from './error-reference';
import { wireVectors } from './wire-vectors';

const ROOT = path.resolve(__dirname, '..');

/** What this run has produced so far, consulted before the disk. */
const produced = new Map<string, string>();
const read: ReadRepoFile = async (file) =>
  produced.get(file) ?? (await readFile(path.join(ROOT, file), 'utf8'));

/**
 * Every generator, in run order. Transcripts come before chapters (which embed
 * them); diffs, chapters, the wire vectors and the error reference are cheap,
 * the transcripts run ~30 processes (~15-40 s). A new generator is one more
 * line here.
 */
export const GENERATORS: Generator[] = [
  diffsGenerator(ROOT),
  transcriptsGenerator(ROOT),
  chaptersGenerator(ROOT, read),
  wireVectors,
  e2eVectors,
  errorReference,
];

/** A short line diff of two texts: the first few differing lines, for a readable failure. */
export function shortDiff(before: string, after: string, maxLines = 12): string {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out = [`@@ line ${start + 1} @@`];
  for (const line of a.slice(start, endA).slice(0, maxLines)) out.push(`- ${line}`);
  if (endA - start > maxLines) out.push(`- ... (${endA - start - maxLines} more)`);
  for (const line of b.slice(start, endB).slice(0, maxLines)) out.push(`+ ${line}`);
  if (endB - start > maxLines) out.push(`+ ... (${endB - start - maxLines} more)`);
  return out.join('\n');
}

async function current(file: string): Promise<string | null> {
  try {
    return await readFile(path.join(ROOT, file), 'utf8');
  } catch {
    return null;
  }
}

const USAGE = `usage: npm run docs:generate [-- --only NAME]   rewrite the generated files
       npm run docs:check                          write nothing; exit 1 if any is stale
generators: ${GENERATORS.map((g) => g.name).join(', ')}`;

/** Parses the command line; unknown arguments are a usage error. */
function parseArgs(argv: string[]): { check: boolean; only: string | null; help: boolean } {
  let check = false;
  let only: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { check, only, help: true };
    if (arg === '--check') check = true;
    else if (arg === '--only') only = argv[++i] ?? null;
    else throw new ChatError('BAD_ARGUMENT', `unknown option ${arg}; --help lists the options`);
  }
  if (only !== null && !GENERATORS.some((g) => g.name === only)) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `no generator named ${only}; there are: ${GENERATORS.map((g) => g.name).join(', ')}`,
    );
  }
  return { check, only, help: false };
}

async function main(): Promise<number> {
  const { check, only, help } = parseArgs(process.argv.slice(2));
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const stale: { file: string; diff: string }[] = [];
  const seen = new Set<string>();
  for (const generator of GENERATORS) {
    if (only !== null && generator.name !== only) continue;
    const started = Date.now();
    const files: GeneratedFile[] = await generator.generate();
    let changed = 0;
    for (const file of files) {
      if (seen.has(file.path)) throw new Error(`${file.path} is generated twice`);
      seen.add(file.path);
      produced.set(file.path, file.content);
      const before = await current(file.path);
      if (before === file.content) continue;
      changed++;
      if (check) {
        stale.push({ file: file.path, diff: shortDiff(before ?? '', file.content) });
      } else {
        await mkdir(path.dirname(path.join(ROOT, file.path)), { recursive: true });
        await writeFile(path.join(ROOT, file.path), file.content);
        console.log(`  wrote ${file.path}${before === null ? ' (new)' : ''}`);
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `${generator.name}: ${files.length} files, ${changed} ${check ? 'stale' : 'changed'} (${seconds} s)`,
    );
  }
  if (stale.length === 0) return 0;
  console.error(`\n${stale.length} generated file(s) are stale:\n`);
  for (const { file, diff } of stale) console.error(`${file}\n${diff}\n`);
  console.error('Fix: run `npm run docs:generate` and commit the result.');
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      // A usage error is one line; anything else is a bug worth its stack trace.
      if (isChatError(err)) console.error(`error: ${err.message} [${err.code}]`);
      else console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(2);
    },
  );
}
