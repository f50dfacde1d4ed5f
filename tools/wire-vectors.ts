/**
 * Wire test vectors: the protocol as data another implementation can check itself against.
 *
 * A {@link Generator} (run by `npm run docs:generate`, checked by `npm run docs:check`)
 * that writes two files, from tools/wire-vectors-build.ts and tools/protocol-doc.ts:
 *
 * - docs/wire-vectors.json: framing, associated data, boxes, bad boxes, frames
 *   and a stage 6 login, computed by the real modules with fixed keys and nonces;
 * - docs/protocol.md: the spec, with its `<!-- generated:vector… -->` blocks
 *   refilled from those vectors, so its examples are exactly the bytes the code
 *   produces. The prose around the blocks is hand-written and kept as is.
 *
 * tools/test/wire-vectors.test.ts replays every vector against the real code
 * and checks that the committed JSON equals a fresh build.
 */

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { formatLikePrettier } from './format';
import type { GeneratedFile, Generator } from './generator';
import { fillProtocolDoc, PROTOCOL_PATH } from './protocol-doc';
import { buildWireVectors, VECTORS_PATH } from './wire-vectors-build';

const ROOT = path.resolve(__dirname, '..');

/** The generator that writes docs/wire-vectors.json and refills docs/protocol.md's examples. */
export const wireVectors: Generator = {
  name: 'wire-vectors',
  async generate(): Promise<GeneratedFile[]> {
    const vectors = buildWireVectors();
    const spec = await readFile(path.join(ROOT, PROTOCOL_PATH), 'utf8');
    return [
      {
        path: VECTORS_PATH,
        content: await formatLikePrettier(ROOT, VECTORS_PATH, JSON.stringify(vectors, null, 2)),
      },
      {
        path: PROTOCOL_PATH,
        content: await formatLikePrettier(ROOT, PROTOCOL_PATH, fillProtocolDoc(spec, vectors)),
      },
    ];
  },
};
