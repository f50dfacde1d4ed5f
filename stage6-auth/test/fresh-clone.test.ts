// Issue 11, "the first ten minutes": on a fresh checkout, `npm run stage6`
// with no options and nothing else typed starts the final program. The
// checkout is a copy of this working tree without `.data/` (what `git clone`
// gives, uncommitted changes included), sharing node_modules by a symlink.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineReader, REPO_ROOT } from '../../shared/test/helpers';
import { spawn } from 'node:child_process';

let checkout: string;
const started: (() => void)[] = []; // SIGKILLs for everything started, even after a timeout

beforeAll(() => {
  checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'fresh-clone-'));
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((f) => f !== '' && fs.existsSync(path.join(REPO_ROOT, f)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(checkout, file));
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules'));
});
afterAll(() => {
  for (const kill of started) kill();
  fs.rmSync(checkout, { recursive: true, force: true });
});

/** `npm run SCRIPT -- ARGS` in the fresh checkout, with a clean chat environment. */
function npmRun(script: string, args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    CHAT_BCRYPT_COST: '4',
  };
  for (const name of ['CHAT_DB_URL', 'CHAT_DB_FILE', 'CHAT_KEY_FILE', 'HOST', 'PORT']) {
    delete env[name];
  }
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: checkout,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const exit = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* already gone */
    }
  };
  started.push(() => kill('SIGKILL'));
  return {
    child,
    exit,
    kill,
    stdout: new LineReader(child.stdout),
    stderr: new LineReader(child.stderr),
  };
}

test('a fresh checkout: `npm run stage6` creates its key and database and serves a client', async () => {
  expect(fs.existsSync(path.join(checkout, '.data'))).toBe(false);
  // --port 0 only so that parallel test runs do not collide on 5050.
  const server = npmRun('stage6', ['--port', '0']);
  try {
    const keyFile = path.join(checkout, '.data', 'chat.key');
    await server.stdout.waitFor(`created the room key ${keyFile} (mode 0600`);
    await server.stdout.waitFor(/give every other member a copy/);
    await server.stdout.waitFor('user store: SQLite file .data/chat.sqlite');
    const port = /:(\d+)$/.exec(await server.stdout.waitFor(/^listening on /))![1]!;
    if (process.platform !== 'win32') {
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
    }

    // A client of the same checkout finds the key by itself.
    const alice = npmRun('stage6:client', [
      '--port',
      port,
      '--user',
      'alice',
      '--register',
      '--password-stdin',
    ]);
    alice.child.stdin.write('a fresh password\n');
    await alice.stderr.waitFor('* logged in as alice');
    alice.child.stdin.end('/quit\n');
    expect(await alice.exit).toBe(0);

    server.kill('SIGTERM');
    await server.stdout.waitFor(/^closed$/);
    await server.exit;
  } finally {
    server.kill('SIGKILL');
  }

  // The second run keeps the key: nothing is created twice.
  const again = npmRun('stage6', ['--port', '0']);
  try {
    await again.stdout.waitFor(/^listening on /);
    expect(again.stdout.lines.some((l) => l.startsWith('created the room key'))).toBe(false);
    again.kill('SIGTERM');
    await again.stdout.waitFor(/^closed$/);
  } finally {
    again.kill('SIGKILL');
  }
});
