// shared/README.md is the map of shared/: a table per stage, each naming the
// modules that stage introduces. A module added without a row (or a row left
// behind by a removed module, or filed under another stage than the one its
// header names) is caught here, not by a reader who cannot find it.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const SHARED = path.resolve(__dirname, '..', '..', 'shared');

/** Each module the README names, with the stage whose heading it is under. */
function modulesInReadme(text: string): Map<string, number> {
  const listed = new Map<string, number>();
  let stage: number | undefined;
  for (const line of text.split('\n')) {
    const heading = /^## Stage (\d+)\b/.exec(line);
    if (heading) stage = Number(heading[1]);
    else if (line.startsWith('## ')) stage = undefined;
    if (stage === undefined || !line.startsWith('|')) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const [, name] of firstCell.matchAll(/`([\w-]+\.ts)`/g)) listed.set(name!, stage);
  }
  return listed;
}

/** The stage a module's header comment says introduced it ("Introduced by stage N"). */
function introducedBy(file: string): number | undefined {
  const header = /^\/\*\*[\s\S]*?\*\//.exec(readFileSync(file, 'utf8'))?.[0] ?? '';
  const match = /Introduced by stage (\d+)/.exec(header.replace(/\n \* ?/g, ' '));
  return match ? Number(match[1]) : undefined;
}

describe('shared/README.md', () => {
  const modules = readdirSync(path.join(SHARED, 'src'))
    .filter((name) => name.endsWith('.ts'))
    .sort();
  const listed = modulesInReadme(readFileSync(path.join(SHARED, 'README.md'), 'utf8'));

  test('names every module in shared/src, and no other', () => {
    expect(modules.length).toBeGreaterThan(0);
    expect([...listed.keys()].sort()).toEqual(modules);
  });

  test('files each module under the stage its header says introduced it', () => {
    const misfiled = modules
      .map((name) => ({ name, header: introducedBy(path.join(SHARED, 'src', name)) }))
      .filter(({ name, header }) => header === undefined || header !== listed.get(name));
    expect(misfiled).toEqual([]);
  });
});
