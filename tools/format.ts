/**
 * Prettier, applied to generated markdown before it is compared or written.
 *
 * `npm run lint` checks every .md file with Prettier, so a generated file must
 * already be in Prettier's shape; formatting it here (with the project's own
 * .prettierrc) makes the output stable under both tools. Prettier runs as its
 * own CLI process: its API loads itself with a dynamic `import()`, which jest's
 * module sandbox refuses, and the freshness test runs these generators in jest.
 */

import { execFile } from 'node:child_process';
import * as path from 'node:path';

const PRETTIER = require.resolve('prettier/bin/prettier.cjs');

/** Formats `content` as `prettier --write` would format the file at `file` (relative to `root`). */
export function formatLikePrettier(root: string, file: string, content: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [PRETTIER, '--stdin-filepath', path.join(root, file)],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`prettier failed on ${file}: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(content);
  });
}
