/**
 * Fills the generated blocks of the stage chapters (stage*\/README.md).
 *
 * Three kinds of marker, each replaced by text computed from the repository:
 *
 * - `<!-- generated:region FILE#NAME -->`: the `#region NAME` lines of a source
 *   file, as a code block with a link to the file (tools/regions.ts);
 * - `<!-- generated:diff stageN-to-stageM FILE "TEXT" -->`: the one hunk of that
 *   file's stage diff containing TEXT, with a link to the full diff page
 *   (tools/diffs.ts); `FILE#REGION` instead diffs that region of both stages,
 *   and `OLD#REGION>NEW#REGION` follows code that moved to another file;
 * - `<!-- generated:transcript stageN SECTION -->`: one section of the recorded
 *   session in docs/transcripts/stageN.md (tools/transcripts.ts);
 * - `<!-- generated:file FILE -->`: a whole source file as a code block (the
 *   smallest programs, shown whole; tools/regions.ts);
 * - `<!-- generated:include FILE.md -->`: another markdown page as a section of
 *   the chapter, headings one level down (PREDICT.md; tools/includes.ts).
 *
 * Everything outside the markers is the authors' and is left byte for byte,
 * apart from Prettier's formatting.
 */

import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  diffFence,
  findHunk,
  findPair,
  type FileDiff,
  regionDiff,
  STAGES,
  stageDiff,
} from './diffs';
import { formatLikePrettier } from './format';
import type { GeneratedFile, Generator } from './generator';
import { includeMarkdown } from './includes';
import { findMarkers, type MarkerBlock, replaceMarkers } from './markers';
import { renderFile, renderRegion } from './regions';
import { transcriptSection } from './transcript-format';

/**
 * Every stage with a chapter: the linear diff series, and stage 9, which is
 * built on stage 7 rather than on stage 8 (so it has a chapter, but no place
 * in that series).
 */
const CHAPTER_STAGES: readonly string[] = [...STAGES, 'stage9-scale-out'];

/** Reads a repository file; generate.ts passes one that sees files generated earlier in the run. */
export type ReadRepoFile = (file: string) => Promise<string>;

/**
 * The chapter files this generator owns the markers of: each stage's README.md,
 * then the further parts and appendices of a long stage, `stageN-*\/docs/*.md`,
 * in name order.
 */
export async function chapterFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const stage of CHAPTER_STAGES) {
    files.push(`${stage}/README.md`);
    let parts: string[] = [];
    try {
      parts = await readdir(path.join(root, stage, 'docs'));
    } catch {
      // Most stages are one file.
    }
    for (const part of parts.filter((p) => p.endsWith('.md')).sort()) {
      files.push(`${stage}/docs/${part}`);
    }
  }
  return files;
}

/**
 * Renders a `diff` marker, `PAIR FILE ["TEXT"]` or `PAIR FILE#REGION ["TEXT"]`:
 * the hunk of FILE's stage diff that contains TEXT, or the diff of the named
 * region between the two stages (the same function, before and after), and a
 * link to the full page.
 */
async function renderDiff(
  root: string,
  chapter: string,
  block: MarkerBlock,
  cache: Map<string, FileDiff[]>,
): Promise<string> {
  const [pair, spec, needle] = block.args;
  if (pair === undefined || spec === undefined) {
    throw new Error(`${chapter}: ${block.opening} needs PAIR FILE[#REGION] ["TEXT"]`);
  }
  const stages = findPair(pair);
  if (stages === undefined) throw new Error(`${chapter}: no stage pair named ${pair}`);
  // `OLD#R>NEW#R`: code that moved to another file (or region) in the later stage.
  const [oldSpec = '', newSpec = oldSpec] = spec.split('>');
  const [file = '', region] = oldSpec.split('#');
  const [newFile = file, newRegion = region] = newSpec.split('#');
  let diff: FileDiff | undefined;
  if (region !== undefined) {
    diff = await regionDiff(root, stages, file, region, newFile, newRegion);
  } else {
    let diffs = cache.get(pair);
    if (diffs === undefined) {
      diffs = await stageDiff(root, stages);
      cache.set(pair, diffs);
    }
    diff = diffs.find((d) => d.label === file);
  }
  if (diff === undefined) throw new Error(`${chapter}: ${pair} does not change ${spec}`);
  const text = needle === undefined ? diff.text : findHunk(diff, needle);
  const page = path.posix.relative(path.posix.dirname(chapter), `docs/diffs/${pair}.md`);
  const what =
    region === undefined
      ? `One hunk of \`${file}\``
      : newSpec === oldSpec
        ? `The \`${region}\` region of \`${file}\`, before and after`
        : `The \`${region}\` region of \`${file}\` in ${stages.before}, and where that code is in ${stages.after}: region \`${newRegion}\` of \`${newFile}\``;
  return [
    diffFence(text),
    '',
    `_${what}; every changed file is in the full diff, [${pair}](${page})._`,
  ].join('\n');
}

/** The generator that refreshes every marker block in every stage's chapters. */
export function chaptersGenerator(root: string, read: ReadRepoFile): Generator {
  return {
    name: 'chapters',
    async generate(): Promise<GeneratedFile[]> {
      const cache = new Map<string, FileDiff[]>();
      const files: GeneratedFile[] = [];
      for (const chapter of await chapterFiles(root)) {
        const text = await read(chapter);
        const filled: string[] = [];
        for (const block of findMarkers(text)) {
          filled.push(await fill(chapter, block));
        }
        let next = 0;
        const replaced = replaceMarkers(text, () => filled[next++] ?? '');
        files.push({ path: chapter, content: await formatLikePrettier(root, chapter, replaced) });
      }
      return files;

      async function fill(chapter: string, block: MarkerBlock): Promise<string> {
        switch (block.kind) {
          case 'region':
            return renderRegion(root, chapter, block.args[0] ?? '');
          case 'diff':
            return renderDiff(root, chapter, block, cache);
          case 'file':
            return renderFile(root, chapter, block.args[0] ?? '');
          case 'include': {
            const file = block.args[0] ?? '';
            return includeMarkdown(await read(file), file, chapter);
          }
          case 'transcript': {
            const [stage, section] = block.args;
            const file = `docs/transcripts/${stage}.md`;
            return transcriptSection(await read(file), section ?? '', file);
          }
          default:
            throw new Error(`${chapter}: unknown marker kind "${block.kind}"`);
        }
      }
    },
  };
}

/** The default reader: the file as it is on disk. */
export function diskReader(root: string): ReadRepoFile {
  return (file) => readFile(path.join(root, file), 'utf8');
}
