/**
 * The step `npm run docs` runs after TypeDoc: copies the files the site needs
 * at run time and TypeDoc does not know about into docs/api/assets/.
 *
 * Only one today: mermaid.min.js, which tools/site/site.js (the site's
 * `customJs`) loads to draw the chapters' diagrams. It comes from the mermaid
 * devDependency, so the site needs no network, not even a CDN: it works when
 * docs/api/index.html is opened straight from the folder.
 */

import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { copyFile, stat } from 'node:fs/promises';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const ASSETS = path.join(ROOT, 'docs', 'api', 'assets');

/** Source (relative to the repository root) → name in docs/api/assets/. */
const COPIES: Record<string, string> = {
  'node_modules/mermaid/dist/mermaid.min.js': 'mermaid.min.js',
};

async function main(): Promise<void> {
  // TypeDoc writes assets/custom.js; without it the site was not just built.
  await stat(path.join(ASSETS, 'custom.js'));
  for (const [from, to] of Object.entries(COPIES)) {
    await copyFile(path.join(ROOT, from), path.join(ASSETS, to));
    console.log(`copied ${from} → docs/api/assets/${to}`);
  }
}

main().catch((err: unknown) => {
  console.error(`copy-assets: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
