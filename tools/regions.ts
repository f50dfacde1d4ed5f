/**
 * Code regions: the part of a source file a chapter shows.
 *
 * A source marks the lines with `// #region NAME` and `// #endregion NAME` (the
 * convention VS Code folds, and the one typedoc's `{@includeCode file#NAME}`
 * reads). Several ranges may share a name: they are shown in order, joined by
 * a `// ...` line, so a chapter can skip the boring middle of a function.
 */

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

const START = /^\s*\/\/ #region (\S+)\s*$/;
const END = /^\s*\/\/ #endregion(?: (\S+))?\s*$/;

/** Removes the common leading indentation of `lines` (blank lines do not count). */
export function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(cut)));
}

/**
 * The lines of region `name` in `source`, dedented, without the marker lines
 * (and without marker lines of other regions nested inside it).
 *
 * Throws when the region is missing or never closed, so a renamed region
 * breaks the generator instead of leaving an empty listing in a chapter.
 */
export function extractRegion(source: string, name: string, file = 'source'): string {
  const lines = source.split('\n');
  const parts: string[][] = [];
  let current: string[] | null = null;
  for (const line of lines) {
    const start = START.exec(line);
    const end = END.exec(line);
    if (start !== null) {
      if (start[1] === name) {
        if (current !== null) throw new Error(`${file}: region ${name} opened twice`);
        current = [];
      }
      continue;
    }
    if (end !== null) {
      if (current !== null && (end[1] === undefined || end[1] === name)) {
        parts.push(current);
        current = null;
      }
      continue;
    }
    current?.push(line);
  }
  if (current !== null) throw new Error(`${file}: region ${name} is never closed`);
  if (parts.length === 0) throw new Error(`${file}: no region named ${name}`);
  const joined: string[] = [];
  parts.forEach((part, i) => {
    if (i > 0) {
      const indent = /^ */.exec(part.find((l) => l.trim() !== '') ?? '')?.[0] ?? '';
      joined.push(`${indent}// ...`);
    }
    joined.push(...part);
  });
  return dedent(joined).join('\n').trim();
}

/** The fence language for a file name: `ts` for TypeScript, otherwise its extension. */
function languageOf(file: string): string {
  const ext = path.extname(file).slice(1);
  return ext === 'ts' ? 'ts' : ext;
}

/**
 * The markdown a `region` marker expands to: the code, then a line naming the
 * file with a link relative to the chapter that includes it.
 *
 * @param root the repository root
 * @param chapter the including markdown file, relative to root
 * @param spec `path/from/root.ts#name`
 */
export async function renderRegion(root: string, chapter: string, spec: string): Promise<string> {
  const [file, name] = spec.split('#');
  if (file === undefined || name === undefined || file === '' || name === '') {
    throw new Error(`${chapter}: a region marker needs FILE#NAME, got "${spec}"`);
  }
  const source = await readFile(path.join(root, file), 'utf8');
  const code = extractRegion(source, name, file);
  const link = path.posix.relative(path.posix.dirname(chapter), file);
  return [
    `\`\`\`${languageOf(file)}`,
    code,
    '```',
    '',
    `_From [\`${file}\`](${link}), region \`${name}\`._`,
  ].join('\n');
}

/**
 * The markdown a `file` marker expands to: a whole source file as a code block,
 * then a line naming it with a link. For the smallest programs, which a chapter
 * shows whole: a listing that is the file itself cannot drift from what
 * `npm run stageN:minimal` runs.
 *
 * @param root the repository root
 * @param chapter the including markdown file, relative to root
 * @param file `path/from/root.ts`
 */
export async function renderFile(root: string, chapter: string, file: string): Promise<string> {
  if (file === '') throw new Error(`${chapter}: a file marker needs FILE`);
  const source = await readFile(path.join(root, file), 'utf8');
  const link = path.posix.relative(path.posix.dirname(chapter), file);
  const lines = source.trimEnd().split('\n').length;
  return [
    `\`\`\`${languageOf(file)}`,
    source.trimEnd(),
    '```',
    '',
    `_All of [\`${file}\`](${link}), ${lines} lines._`,
  ].join('\n');
}
