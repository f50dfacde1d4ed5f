// The committed generated files that are cheap to compute (the stage diffs and
// the chapters' generated blocks) must equal what the generators produce now.
// The transcripts (which run ~30 processes) are checked by `npm run docs:check`.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { chaptersGenerator, diskReader } from '../chapters';
import { diffsGenerator } from '../diffs';
import type { Generator } from '../generator';

const ROOT = path.resolve(__dirname, '..', '..');

const cheap: Generator[] = [diffsGenerator(ROOT), chaptersGenerator(ROOT, diskReader(ROOT))];

test.each(cheap.map((g) => [g.name, g] as const))(
  '%s: the committed files are fresh (else run `npm run docs:generate`)',
  async (_name, generator) => {
    const files = await generator.generate();
    expect(files.length).toBeGreaterThan(0);
    const stale: string[] = [];
    for (const file of files) {
      const onDisk = await readFile(path.join(ROOT, file.path), 'utf8').catch(() => null);
      if (onDisk !== file.content) stale.push(file.path);
    }
    expect(stale).toEqual([]);
  },
  // A watchdog: the chapters run Prettier on every page, over a minute on a loaded machine.
  300_000,
);
