/**
 * The Node.js version check every program makes before anything else.
 *
 * Introduced by stage 1. The course needs Node.js 20 or newer (`engines` in
 * package.json says so, but npm only warns about it). On an older Node the
 * programs would fail later with an error that names something else, such as
 * a missing `node:` API or a native module built for another version, so
 * each entry file imports this module first, and an old Node gets one clear
 * line and exit status 1 instead.
 *
 * @module
 */

/** The oldest Node.js major version the course supports. */
export const MIN_NODE_MAJOR = 20;

/**
 * What is wrong with running on Node.js `version`, or undefined if nothing.
 *
 * @param version - `process.versions.node`, e.g. `20.20.0`
 * @returns one sentence naming both versions, or undefined
 *
 * @example
 * ```ts
 * nodeVersionProblem('18.19.1'); //=> 'this course needs Node.js 20 or newer; this is Node.js 18.19.1'
 * nodeVersionProblem('22.1.0');  //=> undefined
 * ```
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `this course needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js ${version}`;
}

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`error: ${problem} (https://nodejs.org)\n`);
  process.exit(1);
}
