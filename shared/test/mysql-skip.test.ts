/**
 * With no reachable MySQL, the MySQL suites show as skipped in Jest's summary
 * (not as a passing stand-in test), with the reason printed once and no code
 * frame; under CI=true they fail. Checked by running Jest itself on a small
 * suite written like the real ones, with the admin URL pointing nowhere.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './helpers';

function jestOnFixture(env: NodeJS.ProcessEnv) {
  const config = {
    rootDir: REPO_ROOT,
    testEnvironment: 'node',
    transform: { '^.+\\.ts$': ['ts-jest', {}] },
    testMatch: ['<rootDir>/shared/test/fixtures/mysql-suite.fixture.ts'],
    globalSetup: '<rootDir>/shared/test/mysql-global-setup.ts',
    globalTeardown: '<rootDir>/shared/test/mysql-global-teardown.ts',
  };
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--config',
      JSON.stringify(config),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, CHAT_DB_URL: '', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, output })),
  );
}

const NOWHERE = { CHAT_DB_ADMIN_URL: 'mysql://root@127.0.0.1:9' };

test('outside CI: counted as skipped, the reason printed once, no code frame, exit 0', async () => {
  const { code, output } = await jestOnFixture({ ...NOWHERE, CI: '' });
  expect(code).toBe(0);
  expect(output).toMatch(/^Tests: +2 skipped, 2 total$/m);
  expect(output).toMatch(/^Test Suites: +1 skipped, 0 of 1 total$/m);
  const notices = output.match(
    /NOTICE: MySQL admin at 127\.0\.0\.1:9 is unavailable \(ECONNREFUSED\)/g,
  );
  expect(notices).toHaveLength(1);
  expect(output).not.toMatch(/^\s+at /m); // no stack, no code frame
});

test('under CI=true: the suite fails, naming the reason', async () => {
  const { code, output } = await jestOnFixture({ ...NOWHERE, CI: 'true' });
  expect(code).toBe(1);
  expect(output).toMatch(/^Tests: +1 failed, 1 total$/m);
  expect(output).toContain('under CI the MySQL tests must run');
});
