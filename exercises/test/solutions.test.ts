// Every exercise is honest: its checks FAIL on the course code as it is (so
// they test something the learner has to build) and PASS once its reference
// solution is applied (so the task can be done, and the checks accept a real
// solution). Each exercise gets a temporary copy of the folders it needs, with
// node_modules linked, and `npm run exercise` is run against that copy twice:
// before and after `git apply`. Workspaces run one after another.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listExercises } from '../kit/runner';

const REPO = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');
const SOLUTIONS = path.join(REPO, 'exercises', 'solutions');

/** Top-level folders a patch touches (`diff --git a/stage4-multiclient/...`). */
function foldersTouched(patch: string): string[] {
  const found = [...patch.matchAll(/^diff --git a\/([^/\s]+)\//gm)].map((m) => m[1]!);
  return [...new Set(found)];
}

/** A temporary copy of what an exercise needs: its stage, shared/, the test kit, the configs. */
function makeWorkspace(id: string, patch: string): string {
  const stage = id.split('/')[0]!;
  const stageDir = fs.readdirSync(REPO).find((name) => name.startsWith(`${stage}-`));
  if (stageDir === undefined) throw new Error(`no folder for ${stage}`);
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'exercise-'));
  try {
    // testkit/: a stage's test harness builds on it (stage 6's re-exports it).
    const folders = new Set([stageDir, 'shared', 'testkit', ...foldersTouched(patch)]);
    for (const item of [...folders, 'package.json', 'tsconfig.json']) {
      fs.cpSync(path.join(REPO, item), path.join(ws, item), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(ws, 'node_modules'), 'dir');
    return ws;
  } catch (err) {
    fs.rmSync(ws, { recursive: true, force: true }); // a half-made workspace is not left behind
    throw err;
  }
}

/** Runs `npm run exercise -- ID --root WS` (through tsx directly: no npm start-up cost). */
function runChecks(id: string, ws: string): { status: number | null; output: string } {
  const run = spawnSync(TSX, ['exercises/run.ts', id, '--root', ws], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 150_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const ids = listExercises().map((listed) => listed.id);

test('there are exercises, each with a reference solution', () => {
  expect(ids.length).toBeGreaterThanOrEqual(6);
  for (const id of ids) expect(fs.existsSync(path.join(SOLUTIONS, `${id}.patch`))).toBe(true);
});

describe.each(ids)('%s', (id) => {
  test('its checks fail on the course code and pass with the reference solution', () => {
    const patchFile = path.join(SOLUTIONS, `${id}.patch`);
    const ws = makeWorkspace(id, fs.readFileSync(patchFile, 'utf8'));
    try {
      const before = runChecks(id, ws);
      expect(before).toMatchObject({ status: 1, output: expect.stringContaining('✗') });

      // GIT_CEILING_DIRECTORIES: the workspace is not in a repository, and git
      // must not go looking for one above it (paths would then be wrong).
      execFileSync('git', ['apply', patchFile], {
        cwd: ws,
        env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(ws) },
      });
      const after = runChecks(id, ws);
      expect(after).toMatchObject({ status: 0, output: expect.stringContaining(' PASS ') });
      expect(after.output).not.toContain('✗');
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  }, 300_000);
});
