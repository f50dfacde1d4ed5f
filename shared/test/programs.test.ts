/**
 * Every program a user can start (each `tsx FILE` npm script, and the two
 * demos run with `npx tsx`) keeps the same promises: `--help` prints the usage
 * and exits 0; an unknown option exits 2 with one line that points at
 * `--help`; on a Node.js older than 20 it says so in one line and exits 1,
 * before anything else runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeVersionProblem } from '../src/node-version';
import { REPO_ROOT } from './helpers';

const scripts = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

// The smallest versions (`npm run stageN:minimal`) are left out on purpose:
// each is a teaching program of a few dozen lines that takes only `--port`,
// shown whole in its chapter, where a --help and a version check would be
// noise. Their own tests (stageN/test/minimal.test.ts) run them.
const isMinimal = (name: string) => /:minimal/.test(name);

/** [name, entry file, arguments the script always passes] for every program. */
const PROGRAMS: [string, string, string[]][] = [
  ...Object.entries(scripts).flatMap(([name, command]) => {
    const m = /^(?:tsx|node --require tsx\/cjs) (\S+\.ts)((?: \S+)*)$/.exec(command);
    return m === null || isMinimal(name)
      ? []
      : [
          [`npm run ${name}`, m[1]!, m[2]!.split(' ').filter(Boolean)] as [
            string,
            string,
            string[],
          ],
        ];
  }),
  ['framing demo', 'stage2-client-server/bin/framing-demo.ts', []],
  ['fixed-IV demo', 'stage5-aes/bin/fixed-iv-demo.ts', []],
];

interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs one program as its npm script does (node with tsx's loader), with `args`. */
function run(file: string, args: string[], nodeArgs: string[] = []): Promise<Ran> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', file, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })),
  );
}

// Every process is started up front, four at a time (each is a tsx start-up,
// about a second of CPU), and the tests below read the results.
const PRETEND_NODE_18 = path.join(__dirname, 'fixtures', 'pretend-node-18.cjs');
const CASES = {
  help: (fixed: string[]) => run(fixed[0]!, [...fixed.slice(1), '--help']),
  unknown: (fixed: string[]) => run(fixed[0]!, [...fixed.slice(1), '--no-such-option']),
  node18: (fixed: string[]) => run(fixed[0]!, fixed.slice(1), ['--require', PRETEND_NODE_18]),
};
const results = new Map<string, Ran>();

beforeAll(async () => {
  const jobs = PROGRAMS.flatMap(([name, file, fixed]) =>
    Object.entries(CASES).map(([kind, start]) => async () => {
      results.set(`${name} ${kind}`, await start([file, ...fixed]));
    }),
  );
  const worker = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) await job();
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}, 300_000);

test('the list of programs is complete enough to mean something', () => {
  const names = PROGRAMS.map(([name]) => name);
  for (const name of ['npm run stage1', 'npm run stage6', 'npm run test:fuzz', 'npm run keygen']) {
    expect(names).toContain(name);
  }
  expect(PROGRAMS.length).toBeGreaterThanOrEqual(20);
});

describe.each(PROGRAMS)('%s', (name, file) => {
  test('imports the Node.js version check before anything else', () => {
    const source = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
    const first = /^import [^;]+;/m.exec(source)?.[0];
    expect(first).toMatch(/^import '(\.\.\/)+shared\/src\/node-version';$/);
  });

  test('--help prints the usage and exits 0', () => {
    const ran = results.get(`${name} help`);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran?.stdout).toMatch(/usage/i);
  });

  test('an unknown option exits 2 and points at --help', () => {
    const ran = results.get(`${name} unknown`);
    expect(ran?.code).toBe(2);
    expect(ran?.stderr).toMatch(/unknown option --no-such-option; --help lists the options/);
  });

  test('on Node.js 18 it says one line and exits 1', () => {
    expect(results.get(`${name} node18`)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: this course needs Node.js 20 or newer; this is Node.js 18.19.0 (https://nodejs.org)\n',
    });
  });
});

test('nodeVersionProblem accepts 20 and later, and names both versions otherwise', () => {
  expect(nodeVersionProblem('20.0.0')).toBeUndefined();
  expect(nodeVersionProblem('24.1.0')).toBeUndefined();
  expect(nodeVersionProblem('18.19.0')).toBe(
    'this course needs Node.js 20 or newer; this is Node.js 18.19.0',
  );
  expect(nodeVersionProblem('9.11.2')).toMatch(/Node\.js 9\.11\.2$/);
});
