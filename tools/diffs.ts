/**
 * Stage diffs: what each stage changes in the one it is built on.
 *
 * For every pair of stages ({@link STAGE_PAIRS}: each stage of the linear
 * series on the one before it, then stage 9 on stage 7, which it is built
 * on instead of stage 8), `src/` and `bin/` are compared file by
 * file (matched by their path inside the stage), followed by the `shared/`
 * modules the later stage introduces (each module's header comment says
 * "Introduced by stage N"). A changed file is shown as a diff; a new file is
 * shown whole but folded (a reader opens the ones they want); a file only the
 * earlier stage has is listed, not shown as "removed": each stage is a
 * complete program, so such a file (a demo, a tool such as `keygen.ts`) is
 * still there, in its own stage, and still runs. The diff is git's own
 * (`git diff --no-index`), with everything that depends on the machine
 * removed: blob hashes, file modes and colours.
 */

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { formatLikePrettier } from './format';
import type { GeneratedFile, Generator } from './generator';
import { extractRegion } from './regions';

const run = promisify(execFile);

/** The stage folders, in course order. */
export const STAGES = [
  'stage1-basic-server',
  'stage2-client-server',
  'stage3-threads',
  'stage4-multiclient',
  'stage5-aes',
  'stage6-auth',
  'stage7-tls',
  'stage8-e2e',
] as const;

/** Two stages compared on one diff page: `after` is built on `before`. */
export interface StagePair {
  /** The stage built on, e.g. `stage7-tls`. */
  before: string;
  /** The stage that grew from it, e.g. `stage9-scale-out`. */
  after: string;
}

/**
 * Every diff page, in course order: each stage of the linear series on the
 * one before it, then stage 9 on stage 7. Stage 9 is built on stage 7, not on
 * stage 8 (its chapter says why), so its diff is against the stage it grew from.
 */
export const STAGE_PAIRS: readonly StagePair[] = [
  ...STAGES.slice(1).map((after, i) => ({ before: STAGES[i] ?? '', after })),
  { before: 'stage7-tls', after: 'stage9-scale-out' },
];

/** `stage9-scale-out` → 9. */
export function stageNumber(stage: string): number {
  return Number(/^stage(\d+)/.exec(stage)?.[1] ?? NaN);
}

/** The pair whose page is named `name` (`stage7-to-stage9`), or undefined. */
export function findPair(name: string): StagePair | undefined {
  return STAGE_PAIRS.find((pair) => pairName(pair) === name);
}

/** `stage4-multiclient` → `stage4`. */
export function shortName(stage: string): string {
  return stage.split('-')[0] ?? stage;
}

/** One file's diff between two stages. */
export interface FileDiff {
  /** The path shown in the page's heading, e.g. `src/server.ts` or `shared/src/room.ts`. */
  label: string;
  /** The unified diff, from its `---` line on. */
  text: string;
  /**
   * `changed` (both stages have it), `added` (only the later one) or
   * `earlier-only` (only the earlier one: not carried forward, still in its stage).
   */
  kind?: 'changed' | 'added' | 'earlier-only';
}

/** Files of one stage under src/ and bin/, relative to the stage folder, sorted. */
async function stageFiles(root: string, stage: string): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ['bin', 'src']) {
    const entries = await readdir(path.join(root, stage, dir)).catch(() => [] as string[]);
    for (const entry of entries) if (entry.endsWith('.ts')) files.push(`${dir}/${entry}`);
  }
  return files.sort();
}

/** The stage number a shared module's header names ("Introduced by stage 3"), or null. */
export function introducedBy(source: string): number | null {
  const match = /Introduced by stage (\d)/.exec(source.slice(0, 2000));
  return match === null ? null : Number(match[1]);
}

/**
 * Drops the lines of git's output that depend on more than the two files'
 * text (blob hashes, modes, the `diff --git` line with its a/ b/ prefixes), and
 * turns `/dev/null` sides into a stable form.
 */
export function normaliseGitDiff(raw: string): string {
  return raw
    .split('\n')
    .filter(
      (line) =>
        !/^(diff --git |index [0-9a-f]+\.\.[0-9a-f]+|new file mode |deleted file mode |old mode |new mode |similarity index |\\ No newline at end of file)/.test(
          line,
        ),
    )
    .join('\n')
    .replace(/^--- a\//m, '--- ')
    .replace(/^\+\+\+ b\//m, '+++ ')
    .trimEnd();
}

/** `git diff --no-index` of two repository-relative paths (either may be `/dev/null`). */
export async function gitDiff(
  root: string,
  before: string,
  after: string,
  normalise = true,
): Promise<string> {
  const args = [
    '-c',
    'core.quotepath=off',
    '-c',
    'diff.noprefix=false',
    '-c',
    'diff.mnemonicPrefix=false',
    '-c',
    'diff.relative=false',
    '-c',
    'diff.suppressBlankEmpty=false',
    'diff',
    '--no-index',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--no-renames', // a removed and an added file stay two files, each shown whole
    '--diff-algorithm=histogram',
    '--unified=3',
    '--',
    before,
    after,
  ];
  try {
    await run('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    return ''; // exit code 0: identical
  } catch (err) {
    const failure = err as { code?: number; stdout?: string; stderr?: string };
    if (failure.code === 1 && typeof failure.stdout === 'string') {
      return normalise ? normaliseGitDiff(failure.stdout) : failure.stdout;
    }
    throw new Error(`git diff ${before} ${after} failed: ${failure.stderr ?? String(err)}`);
  }
}

/** Removes `// #region NAME` and `// #endregion NAME` lines: they mark listings, not code. */
export function stripRegionMarkers(source: string): string {
  return source
    .split('\n')
    .filter((line) => !/^\s*\/\/ #(end)?region\b/.test(line))
    .join('\n');
}

/**
 * The diff of two texts, each shown under its repository path (null: the file
 * does not exist on that side). The texts are written to a temporary folder
 * laid out like the repository, so git's headers name the real paths.
 */
export async function diffTexts(
  before: { path: string; text: string } | null,
  after: { path: string; text: string } | null,
): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-diff-'));
  try {
    const names: string[] = [];
    for (const [side, file] of [
      ['a', before],
      ['b', after],
    ] as const) {
      if (file === null) {
        names.push('/dev/null');
        continue;
      }
      // Each side in its own folder: both may have the same path.
      const name = `${side}/${file.path}`;
      await mkdir(path.dirname(path.join(tmp, name)), { recursive: true });
      await writeFile(path.join(tmp, name), file.text);
      names.push(name);
    }
    const raw = await gitDiff(tmp, names[0] ?? '', names[1] ?? '');
    // Drop the side folders from the headers: `--- a/stage1/…` → `--- stage1/…`.
    return raw.replace(/^(---|\+\+\+) [ab]\//gm, '$1 ');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A repository file's text without region markers, or null if it does not exist. */
async function readSide(root: string, file: string, exists: boolean) {
  if (!exists) return null;
  return { path: file, text: stripRegionMarkers(await readFile(path.join(root, file), 'utf8')) };
}

/** One file of a stage pair: its label, and its text on each side (null: absent). */
interface PairFile {
  label: string;
  before: { path: string; text: string } | null;
  after: { path: string; text: string } | null;
}

/**
 * Diffs many files with one `git diff --no-index` of two folders (one process
 * instead of one per file: on a busy machine, process start-up is most of the
 * cost). Each side's files are laid out under their labels, and the headers are
 * rewritten to the real repository paths afterwards.
 */
async function diffMany(files: PairFile[]): Promise<FileDiff[]> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-diff-'));
  try {
    for (const file of files) {
      for (const [side, content] of [
        ['a', file.before],
        ['b', file.after],
      ] as const) {
        if (content === null) continue;
        const target = path.join(tmp, side, file.label);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, content.text);
      }
    }
    await mkdir(path.join(tmp, 'a'), { recursive: true });
    await mkdir(path.join(tmp, 'b'), { recursive: true });
    const raw = await gitDiff(tmp, 'a', 'b', false);
    const byLabel = new Map<string, string>();
    for (const section of raw.split(/^(?=diff --git )/m)) {
      const minus = /^--- (?:a\/a\/(.+)|\/dev\/null)$/m.exec(section);
      const plus = /^\+\+\+ (?:b\/b\/(.+)|\/dev\/null)$/m.exec(section);
      const label = minus?.[1] ?? plus?.[1];
      if (label === undefined) continue;
      byLabel.set(label, section);
    }
    const out: FileDiff[] = [];
    for (const file of files) {
      const section = byLabel.get(file.label);
      if (section === undefined) continue; // identical on both sides
      const text = normaliseGitDiff(section)
        .replace(/^--- a\/.+$/m, `--- ${file.before?.path ?? '/dev/null'}`)
        .replace(/^\+\+\+ b\/.+$/m, `+++ ${file.after?.path ?? '/dev/null'}`);
      const kind =
        file.before === null ? 'added' : file.after === null ? 'earlier-only' : 'changed';
      out.push({ label: file.label, text, kind });
    }
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Every file diff between the two stages of `pair`, in page order. */
export async function stageDiff(root: string, pair: StagePair): Promise<FileDiff[]> {
  const { before, after } = pair;
  const oldFiles = await stageFiles(root, before);
  const newFiles = await stageFiles(root, after);
  const files: PairFile[] = [];
  for (const name of [...new Set([...oldFiles, ...newFiles])].sort()) {
    files.push({
      label: name,
      before: await readSide(root, `${before}/${name}`, oldFiles.includes(name)),
      after: await readSide(root, `${after}/${name}`, newFiles.includes(name)),
    });
  }
  const sharedDir = path.join(root, 'shared', 'src');
  for (const entry of (await readdir(sharedDir)).filter((e) => e.endsWith('.ts')).sort()) {
    const source = await readFile(path.join(sharedDir, entry), 'utf8');
    if (introducedBy(source) !== stageNumber(after)) continue;
    const file = `shared/src/${entry}`;
    files.push({ label: file, before: null, after: await readSide(root, file, true) });
  }
  return diffMany(files);
}

/**
 * The diff of region `region` of `file` (a path inside the stage, such as
 * `src/server.ts`) between the two stages of `pair`: the same
 * function before and after, without the rest of a file that was rewritten.
 * When the code moved to another file, `newFile`/`newRegion` name where it is
 * in the later stage.
 */
export async function regionDiff(
  root: string,
  pair: StagePair,
  file: string,
  region: string,
  newFile = file,
  newRegion = region,
): Promise<FileDiff> {
  const sides: { path: string; text: string }[] = [];
  for (const [stage, f, r] of [
    [pair.before, file, region],
    [pair.after, newFile, newRegion],
  ]) {
    const where = `${stage}/${f}`;
    const source = await readFile(path.join(root, where), 'utf8');
    sides.push({ path: `${where}#${r}`, text: extractRegion(source, r ?? '', where) + '\n' });
  }
  const label =
    newFile === file ? `${file}#${region}` : `${file}#${region} → ${newFile}#${newRegion}`;
  return { label, text: await diffTexts(sides[0] ?? null, sides[1] ?? null) };
}

/** `stage4-to-stage5` for the pair of stage4-multiclient and stage5-aes. */
export function pairName(pair: StagePair): string {
  return `${shortName(pair.before)}-to-${shortName(pair.after)}`;
}

/** A diff as a fenced block; the fence is longer than any backtick run inside it. */
export function diffFence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}diff\n${text}\n${fence}`;
}

/** Counts added and removed lines of a unified diff (not its `+++`/`---` headers). */
function stat(text: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++ ')) added++;
    if (line.startsWith('-') && !line.startsWith('--- ')) removed++;
  }
  return { added, removed };
}

/** What runs a file: the npm scripts whose command names it (`npm run keygen`). */
export type ScriptsOf = (file: string) => string[];

/** The markdown page for one stage pair. */
export function renderDiffPage(
  pair: StagePair,
  diffs: FileDiff[],
  scriptsOf: ScriptsOf = () => [],
): string {
  const { before, after } = pair;
  // A stage built on an earlier one than the stage before it (stage 9 on stage 7) says so.
  const skipped =
    stageNumber(after) === stageNumber(before) + 1
      ? []
      : [
          '',
          `${after} is built on ${before}, not on the stage before it: this page compares it`,
          `with the stage it grew from.`,
        ];
  const shown = diffs.filter((d) => d.kind !== 'earlier-only');
  const earlierOnly = diffs.filter((d) => d.kind === 'earlier-only');
  const lines = [
    '---',
    `title: 'Diff: ${shortName(before)} to ${shortName(after)}'`,
    '---',
    '',
    `# What changed from ${before} to ${after}`,
    '',
    `Generated by \`npm run docs:generate\` (tools/diffs.ts) from the sources: do not edit.`,
    `Files under \`src/\` and \`bin/\` are matched by name. A changed file is shown as a diff;`,
    `a new file (and each \`shared/\` module that ${shortName(after)} introduces) is shown whole,`,
    `folded: open the ones you want. The chapter,`,
    `[${after}/README.md](../../${after}/README.md), walks through the key change.`,
    ...skipped,
    '',
    '| File | Status | Added | Removed |',
    '| ---- | ------ | ----: | ------: |',
  ];
  for (const diff of shown) {
    const { added, removed } = stat(diff.text);
    const status = diff.kind === 'added' ? 'new' : 'changed';
    lines.push(`| \`${diff.label}\` | ${status} | ${added} | ${removed} |`);
  }
  if (earlierOnly.length > 0) {
    // A later stage may run an earlier stage's file as it is (stage 9's client is stage 7's).
    const later = `${shortName(after)}:`;
    const reused = earlierOnly
      .flatMap((d) => scriptsOf(`${before}/${d.label}`))
      .filter((s) => s.startsWith(later));
    const need =
      reused.length === 0
        ? `${after} does not need them.`
        : `${after} does not copy them: ${reused.map((s) => `\`npm run ${s}\``).join(', ')} runs ${before}'s file as it is.`;
    lines.push(
      '',
      `Only in ${before}, and not carried into ${after}: each stage is a complete program,`,
      `so these stay in their own folder, where they still run. They are not removed, and`,
      need,
      '',
    );
    for (const diff of earlierOnly) {
      const { removed } = stat(diff.text);
      const scripts = scriptsOf(`${before}/${diff.label}`);
      const runs =
        scripts.length > 0 ? `, run by ${scripts.map((s) => `\`npm run ${s}\``).join(', ')}` : '';
      lines.push(
        `- [\`${before}/${diff.label}\`](../../${before}/${diff.label}) (${removed} lines${runs})`,
      );
    }
  }
  for (const diff of shown) {
    if (diff.kind === 'added') {
      const { added } = stat(diff.text);
      lines.push(
        '',
        `## \`${diff.label}\``,
        '',
        '<details>',
        `<summary>New file, ${added} lines: show it</summary>`,
        '',
        diffFence(diff.text),
        '',
        '</details>',
      );
    } else {
      lines.push('', `## \`${diff.label}\``, '', diffFence(diff.text));
    }
  }
  return lines.join('\n') + '\n';
}

/** The npm scripts of the repository at `root` that run each file, from package.json. */
export async function npmScriptsOf(root: string): Promise<ScriptsOf> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const scripts = Object.entries(pkg.scripts ?? {});
  return (file) =>
    scripts.filter(([, command]) => command.split(/\s+/).includes(file)).map(([name]) => name);
}

/**
 * The one hunk of a file's diff that contains `needle` (on a changed or
 * context line), with the `---`/`+++` header so it reads as a diff on its own.
 */
export function findHunk(diff: FileDiff, needle: string): string {
  const [header, ...hunks] = diff.text.split(/^(?=@@ )/m);
  const matches = hunks.filter((hunk) => hunk.includes(needle));
  if (matches.length !== 1) {
    throw new Error(
      `${diff.label}: ${matches.length} hunks contain "${needle}"; the key-hunk string must pick exactly one`,
    );
  }
  return `${header ?? ''}${matches[0] ?? ''}`.trimEnd();
}

/** The generator that writes docs/diffs/stageN-to-stageM.md for every stage pair. */
export function diffsGenerator(root: string): Generator {
  return {
    name: 'diffs',
    async generate(): Promise<GeneratedFile[]> {
      const files: GeneratedFile[] = [];
      const scriptsOf = await npmScriptsOf(root);
      for (const pair of STAGE_PAIRS) {
        const file = `docs/diffs/${pairName(pair)}.md`;
        const page = renderDiffPage(pair, await stageDiff(root, pair), scriptsOf);
        files.push({ path: file, content: await formatLikePrettier(root, file, page) });
      }
      return files;
    },
  };
}
