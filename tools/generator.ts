/**
 * The contract every docs generator in tools/ follows.
 *
 * Generated files (stage diffs, transcripts, code regions in chapters, the error
 * reference, the wire test vectors) are committed, so a reader on GitHub sees them
 * without building anything. `npm run docs:generate` rewrites them; `npm run docs:check`
 * (run by CI) regenerates them in memory and fails when a committed copy differs, so
 * the text can never drift from the code it shows.
 */

/** One file a generator produces, with its whole intended content. */
export interface GeneratedFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  /** The complete file content the generator wants on disk. */
  content: string;
}

/** A named producer of generated files; it reads the repository but never writes. */
export interface Generator {
  /** Short name shown in the generate/check output, e.g. `diffs`. */
  name: string;
  /** Computes every file this generator owns. */
  generate(): Promise<GeneratedFile[]>;
}
