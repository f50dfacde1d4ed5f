/**
 * Generated blocks inside hand-written markdown.
 *
 * A chapter keeps its prose and marks the places a generator owns:
 *
 *     <!-- generated:region stage4-multiclient/src/server.ts#focus -->
 *     ...whatever the generator wrote last time...
 *     <!-- /generated -->
 *
 * The opening comment says what belongs there (a kind and its arguments); the
 * text in between is thrown away and recomputed on every run, so it can never
 * be edited by hand for long. HTML comments are invisible on GitHub and in
 * typedoc alike, which is why the markers are comments and not a build step.
 */

/** One `<!-- generated:KIND ARGS -->` … `<!-- /generated -->` block found in a text. */
export interface MarkerBlock {
  /** What fills the block: `region`, `diff`, `transcript`, `file`, `include`. */
  kind: string;
  /** The words after the kind; a "double-quoted phrase" counts as one word. */
  args: string[];
  /** The opening comment exactly as written (kept unchanged on replacement). */
  opening: string;
  /** The text between the opening and closing comments. */
  body: string;
}

const BLOCK =
  /^([ \t]*)<!-- generated:([a-z-]+)((?: [^\n]*?)?) -->\n([\s\S]*?)^[ \t]*<!-- \/generated -->/gm;
const STRAY = /<!-- (?:generated:|\/generated)/g;

/** Splits marker arguments on spaces, keeping `"a quoted phrase"` together (quotes removed). */
export function parseArgs(text: string): string[] {
  const args: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|(\S+)/g)) args.push(match[1] ?? match[2] ?? '');
  return args;
}

/** Every marker block in `text`, in order. */
export function findMarkers(text: string): MarkerBlock[] {
  return [...text.matchAll(BLOCK)].map((m) => ({
    kind: m[2] ?? '',
    args: parseArgs(m[3] ?? ''),
    opening: `<!-- generated:${m[2]}${m[3]} -->`,
    body: m[4] ?? '',
  }));
}

/**
 * Replaces the body of every marker block with `fill(block)`, surrounded by one
 * blank line on each side (what Prettier would put there anyway). A block
 * indented inside a list item keeps its indentation, so it stays in the item.
 *
 * Throws on an opening marker without its closing one (or the reverse): a
 * half-deleted marker would otherwise swallow or leave stale text silently.
 */
export function replaceMarkers(text: string, fill: (block: MarkerBlock) => string): string {
  const openings = [...text.matchAll(/<!-- generated:/g)].length;
  const closings = [...text.matchAll(/<!-- \/generated -->/g)].length;
  const blocks = findMarkers(text).length;
  if (
    openings !== blocks ||
    closings !== blocks ||
    [...text.matchAll(STRAY)].length !== 2 * blocks
  ) {
    throw new Error(
      `unbalanced generated markers: ${openings} opening, ${closings} closing, ${blocks} complete blocks`,
    );
  }
  return text.replace(
    BLOCK,
    (_all, indent: string, kind: string, rawArgs: string, body: string) => {
      const opening = `<!-- generated:${kind}${rawArgs} -->`;
      const content = fill({ kind, args: parseArgs(rawArgs), opening, body })
        .trim()
        .split('\n')
        .map((line) => (line === '' ? '' : indent + line))
        .join('\n');
      return `${indent}${opening}\n\n${content}\n\n${indent}<!-- /generated -->`;
    },
  );
}
