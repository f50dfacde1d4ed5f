/**
 * How long a chapter is to read: its prose words.
 *
 * A chapter should be one sitting (about 3,500 words at most; DESIGN.md,
 * "Chapter shape"). Code is read differently from prose and the recorded
 * transcripts are skimmed, so the count leaves out every fenced block (code,
 * transcripts, diffs, diagrams) and HTML comments (the generated-region
 * markers); what is left, tables and included pages too, is counted the way
 * `wc -w` counts: runs of characters between whitespace.
 */

/** The longest a chapter file may be, in prose words. */
export const CHAPTER_WORD_LIMIT = 3500;

/** `markdown` without its fenced blocks and HTML comments: the prose a reader reads. */
export function proseOf(markdown: string): string {
  const kept: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener !== undefined) {
      fence = opener;
      continue;
    }
    if (fence !== null) {
      if (line.trim().startsWith(fence)) fence = null;
      continue;
    }
    kept.push(line);
  }
  return kept.join('\n').replace(/<!--[\s\S]*?-->/g, ' ');
}

/** The prose words of `markdown`, counted as `wc -w` counts them. */
export function proseWords(markdown: string): number {
  return proseOf(markdown)
    .split(/\s+/)
    .filter((w) => w !== '').length;
}
