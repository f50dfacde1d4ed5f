// The stage diff pages: what a reader needs, not everything git says.
import { pairName, renderDiffPage, STAGE_PAIRS, type FileDiff } from '../diffs';

const diffs: FileDiff[] = [
  { label: 'src/server.ts', kind: 'changed', text: '--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new' },
  {
    label: 'src/handshake.ts',
    kind: 'added',
    text: '--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b',
  },
  {
    label: 'bin/keygen.ts',
    kind: 'earlier-only',
    text: '--- a\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-x\n-y\n-z',
  },
];
const page = renderDiffPage({ before: 'stage5-aes', after: 'stage6-auth' }, diffs, (file) =>
  file === 'stage5-aes/bin/keygen.ts' ? ['keygen'] : [],
);

test('a changed file is shown as its diff', () => {
  expect(page).toContain(
    '## `src/server.ts`\n\n```diff\n--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n```',
  );
  expect(page).toContain('| `src/server.ts` | changed | 1 | 1 |');
});

test('a new file is shown whole but folded', () => {
  expect(page).toContain(
    '## `src/handshake.ts`\n\n<details>\n<summary>New file, 2 lines: show it</summary>\n\n```diff',
  );
  expect(page).toContain('| `src/handshake.ts` | new | 2 | 0 |');
});

test('a file only the earlier stage has is listed, with what runs it, never shown as removed', () => {
  expect(page).not.toContain('## `bin/keygen.ts`');
  expect(page).not.toMatch(/\| `bin\/keygen\.ts` \|/);
  expect(page).not.toContain('-x\n-y');
  expect(page).toContain(
    '- [`stage5-aes/bin/keygen.ts`](../../stage5-aes/bin/keygen.ts) (3 lines, run by `npm run keygen`)',
  );
  expect(page).toMatch(/Only in stage5-aes, and not carried into stage6-auth/);
});

test('stage 9 is diffed against stage 7, the stage it is built on, after the linear series', () => {
  expect(STAGE_PAIRS.map(pairName)).toEqual([
    'stage1-to-stage2',
    'stage2-to-stage3',
    'stage3-to-stage4',
    'stage4-to-stage5',
    'stage5-to-stage6',
    'stage6-to-stage7',
    'stage7-to-stage8',
    'stage7-to-stage9',
  ]);
  const branch = renderDiffPage({ before: 'stage7-tls', after: 'stage9-scale-out' }, diffs);
  expect(branch).toContain('# What changed from stage7-tls to stage9-scale-out');
  expect(branch).toContain('stage9-scale-out is built on stage7-tls, not on the stage before it');
  expect(page).not.toContain('not on the stage before it');
});
