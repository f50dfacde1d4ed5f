/**
 * Stage 8 test vectors: the end-to-end layer as data another client can check
 * itself against.
 *
 * A {@link Generator} (run by `npm run docs:generate`, checked by
 * `npm run docs:check`) that writes docs/e2e-vectors.json from
 * tools/e2e-vectors-build.ts: key bundles, a pairwise box with its key
 * schedule, the chain ratchet, a signed room message, a receiver's answers to
 * reordered and replayed deliveries, a safety number and an identity file.
 * tools/test/e2e-vectors.test.ts replays every vector against the real code
 * and checks that the committed JSON equals a fresh build.
 */

import * as path from 'node:path';
import { buildE2eVectors, E2E_VECTORS_PATH } from './e2e-vectors-build';
import { formatLikePrettier } from './format';
import type { GeneratedFile, Generator } from './generator';

const ROOT = path.resolve(__dirname, '..');

/** The generator that writes docs/e2e-vectors.json. */
export const e2eVectors: Generator = {
  name: 'e2e-vectors',
  async generate(): Promise<GeneratedFile[]> {
    const json = JSON.stringify(await buildE2eVectors(), null, 2);
    return [
      { path: E2E_VECTORS_PATH, content: await formatLikePrettier(ROOT, E2E_VECTORS_PATH, json) },
    ];
  },
};
