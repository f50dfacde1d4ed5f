/**
 * Tests of the callgrind reader on a small dump in the format
 * bench/instructions.ts asks valgrind for, of the table it prints, and of
 * its flags. A real count needs valgrind, which `npm test` does not ask a
 * learner to install: CI runs one (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../../shared/test/helpers';
import { parseCallgrind, parsePerfMap } from '../callgrind';
import { formatCounts } from '../instruction-count';

// Two functions: node's write (named by callgrind), and compiled JavaScript
// at 0x4000-0x40ff that only the perf map names. The JavaScript calls the
// write; the line after `calls=` is that call's cost, already counted in
// the callee, so it must not count twice.
const DUMP = `# callgrind format
version: 1
creator: callgrind-3.19.0
positions: instr line
events: Ir
ob=/usr/bin/node
fl=???
fn=node::StreamBase::WriteBuffer
0x1000 0 30
0x1004 0 12
ob=???
fn=0x0000000000004010
0x4010 0 5
0x40f0 0 7
cfn=node::StreamBase::WriteBuffer
calls=1 0x1000 0
0x40f4 0 42
0x5000 0 3
summary: 57
totals: 57
`;
const PERF_MAP = `4000 100 JS:*broadcast room.ts:1:1
6000 10 JS:*other x.ts:1:1
not a line of the map
`;

describe('callgrind', () => {
  test('counts each instruction once, and names compiled JavaScript from the perf map', () => {
    const profile = parseCallgrind(DUMP, parsePerfMap(PERF_MAP));
    expect(profile.total).toBe(57);
    expect(Object.fromEntries(profile.byFunction)).toEqual({
      'node::StreamBase::WriteBuffer': 42,
      'JS:*broadcast room.ts:1:1': 12,
      // Outside every range of the map: it keeps the name callgrind gave it.
      '0x0000000000004010': 3,
    });
  });

  test('without a perf map, compiled code keeps its address', () => {
    const profile = parseCallgrind(DUMP, []);
    expect(profile.byFunction.get('0x0000000000004010')).toBe(15);
  });

  test('the table divides by deliveries, shows the median window and compares with the baseline counted', () => {
    const profile = (total: number) => ({ total, byFunction: new Map([['f', total]]) });
    const count = (target: string, ...totals: number[]) => ({
      target,
      messages: 10,
      deliveries: 100,
      windows: totals.map(profile),
    });
    const table = formatCounts(
      [
        count('raw-sealed', 300_000, 301_000, 299_000),
        // A window with a major garbage collection in it does not move the median.
        count('stage6', 380_000, 330_000, 331_000),
        count('stage4', 310_000),
      ],
      1,
    );
    expect(table).toMatch(/^raw-sealed\s+3000\s+2990–3010$/m);
    expect(table).toMatch(/^stage6\s+3310\s+raw-sealed\s+1\.103×\s+3300–3800$/m);
    // Its baseline, raw, was not counted: no ratio.
    expect(table).toMatch(/^stage4\s+3100\s+3100–3100$/m);
    expect(table).toMatch(/^stage6: the 1 costliest functions/m);
    expect(table).toMatch(/^\s+3310\.0 {2}f$/m);
  });

  test('a bad flag is refused with its code before any server starts', () => {
    const run = spawnSync('npm', ['run', '-s', 'bench:instructions', '--', '--messages', '0'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--messages takes a whole number from 1 to 100000');
    expect(run.stderr).toContain('[BAD_ARGUMENT]');
  });
});
