/**
 * Markdown included in a chapter: `<!-- generated:include FILE -->`.
 *
 * Some pages have a life of their own and are also part of a chapter: a
 * stage's PREDICT.md is what `exercises/test/predict.test.ts` runs, and the
 * chapter shows the same questions at its end. The file stays the one source;
 * the chapter holds a copy the generator refreshes, so the two cannot differ.
 */

import * as path from 'node:path';

/**
 * `text` (a markdown page) as a section of `chapter`: the page's own `# ` title
 * is dropped (the chapter gives the section its heading), every other heading
 * goes one level down (`## ` becomes `### `), and relative links are rewritten
 * from `file`'s folder to the chapter's, so they still point at the same files.
 * Headings and links inside code blocks are left alone.
 */
export function includeMarkdown(text: string, file: string, chapter: string): string {
  const from = path.posix.dirname(file);
  const to = path.posix.dirname(chapter);
  let inFence = false;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence || /^\s*```/.test(line)) {
      out.push(line);
      continue;
    }
    if (/^# /.test(line)) continue;
    const demoted = /^#{2,5} /.test(line) ? `#${line}` : line;
    out.push(
      demoted.replace(/\]\(([^)#\s][^)\s]*)\)/g, (all, target: string) =>
        /^[a-z]+:/i.test(target)
          ? all
          : `](${path.posix.relative(to, path.posix.join(from, target)) || '.'})`,
      ),
    );
  }
  return out.join('\n').trim();
}
