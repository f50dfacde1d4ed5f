// End to end, as a user runs it: `npm run stage6` and `npm run stage6:client`
// as separate processes, with a temporary key file and SQLite file.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { generateKey } from '../../shared/src/crypto';
import { saveKeyFile } from '../../shared/src/key-file';
import { LineReader, listeningPort, REPO_ROOT, scriptSuite } from '../../shared/test/helpers';

// CHAT_DB_URL is cleared so a developer's MySQL setting cannot leak in: the
// default, embedded store is what a new user gets.
const ENV = { CHAT_DB_URL: '', CHAT_KEY_FILE: '', LOG_LEVEL: 'info', LOG_FORMAT: '' };
const scripts = scriptSuite('stage6', ENV);
const run = scripts.run;
let keyFile: string;

beforeAll(() => {
  keyFile = scripts.file('room.key');
  saveKeyFile(keyFile, generateKey());
});

test('npm run stage6 + stage6:client: register, chat, a refused login, and a clean shutdown', async () => {
  const dbFile = scripts.file('chat.sqlite');
  const server = run('stage6', ['--port', '0', '--key-file', keyFile, '--bcrypt-cost', '4'], {
    CHAT_DB_FILE: dbFile,
  });
  const port = String(await listeningPort(server));
  expect(server.stdout.lines).toContain(`user store: SQLite file ${dbFile}`);
  const client = (user: string, ...extra: string[]) =>
    run('stage6:client', [
      '--port',
      port,
      '--key-file',
      keyFile,
      '--user',
      user,
      '--password-stdin',
      ...extra,
    ]);

  const alice = client('alice', '--register');
  alice.write('correct horse battery');
  await alice.stderr.waitFor('* logged in as alice');
  const bob = client('bob', '--register');
  bob.write('bob-password-123');
  await bob.stderr.waitFor('* logged in as bob');
  await alice.stderr.waitFor('* bob joined (2 online)');

  alice.write('hello bob');
  expect(await bob.stdout.next()).toBe('alice: hello bob');
  bob.write('/who');
  await bob.stderr.waitFor('* 2 online: alice, bob'); // longest online first

  // A wrong password: one line on stderr, a non-zero exit, nothing on stdout.
  const eve = client('alice');
  eve.write('not the password');
  expect(await eve.exit).toBe(1);
  await eve.stderr.ended;
  expect(eve.stderr.lines).toEqual([
    'error: wrong username or password; new here? add --register [AUTH_FAILED]',
  ]);
  expect(eve.stdout.lines).toEqual([]);

  // Alice quits; bob sees her leave.
  alice.write('/quit');
  expect(await alice.exit).toBe(0);
  await bob.stderr.waitFor('* alice left (1 online)');

  // SIGTERM: bob is told and exits 0 by himself; the server closes cleanly.
  server.kill('SIGTERM');
  await bob.stderr.waitFor('* server says goodbye: server shutting down');
  expect(await bob.exit).toBe(0);
  await server.stdout.waitFor(/^closed$/);

  // The JSON logs (stderr) have the events, with connection ids, and no secrets.
  await server.stderr.ended;
  const logs = server.stderr.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = logs.map((r) => r.event);
  for (const e of [
    'listening',
    'connect',
    'register_ok',
    'login_failed',
    'disconnect',
    'shutdown',
  ]) {
    expect(events).toContain(e);
  }
  expect(logs.filter((r) => r.event === 'connect').every((r) => typeof r.conn === 'number')).toBe(
    true,
  );
  const raw = server.stderr.lines.join('\n');
  for (const secret of [
    'correct horse battery',
    'bob-password-123',
    'not the password',
    'hello bob',
  ]) {
    expect(raw).not.toContain(secret);
  }
  expect(raw).not.toContain(fs.readFileSync(keyFile, 'utf8').trim());
});

test('without a key file the server makes one where it was told, and says so', async () => {
  const made = scripts.file('new', 'room.key');
  const server = run('stage6', ['--port', '0', '--key-file', made], {
    CHAT_DB_FILE: scripts.file('new.sqlite'),
  });
  await server.stdout.waitFor(`created the room key ${made} (mode 0600: only you can read it)`);
  await server.stdout.waitFor(/^every member needs a copy, given over a channel you trust/);
  await listeningPort(server);
  expect(fs.statSync(made).mode & 0o777).toBe(0o600);
  server.kill('SIGTERM');
  await server.stdout.waitFor(/^closed$/);
});

test('LOG_FORMAT=pretty: one readable line per event on stderr instead of JSON', async () => {
  const server = run('stage6', ['--port', '0', '--key-file', keyFile], {
    CHAT_DB_FILE: scripts.file('pretty.sqlite'),
    LOG_FORMAT: 'pretty',
  });
  const port = await listeningPort(server);
  const line = await server.stderr.waitFor(/ listening /);
  expect(line).toMatch(
    new RegExp(
      `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  listening  host=127\\.0\\.0\\.1 port=${port} `,
    ),
  );
  server.kill('SIGTERM');
  await server.stdout.waitFor(/^closed$/);
  await server.stderr.ended;
  expect(server.stderr.lines.filter((l) => l.startsWith('{'))).toEqual([]);
  expect(server.stderr.lines.some((l) => / INFO {2}shutting down {2}connections=0$/.test(l))).toBe(
    true,
  );
});

test('an unknown log format is a usage error', async () => {
  const server = run('stage6', ['--port', '0', '--key-file', keyFile, '--log-format', 'yaml']);
  expect(await server.exit).toBe(2);
  await server.stderr.waitFor(/log format must be "json" or "pretty".*\[BAD_ARGUMENT\]/);
});

// Issue 10: in stage 6 the room key opens every login box, so a copy other
// local users can read hands them every password typed at login. The server
// refuses such a file (a stage 5 client only warns: its key reads chat, and
// the chapter shows the warning).
test.each(['644', '640', '604', '660'])(
  'the server refuses a key file with mode %s and names chmod 600',
  async (mode) => {
    if (process.platform === 'win32') return;
    const loose = scripts.file(`loose-${mode}.key`);
    saveKeyFile(loose, generateKey());
    fs.chmodSync(loose, parseInt(mode, 8));
    const server = run('stage6', ['--port', '0', '--key-file', loose], {
      CHAT_DB_FILE: scripts.file('loose.sqlite'),
    });
    // On the old code the server warned and started: race its exit with "listening on".
    const outcome = await Promise.race([
      server.exit,
      server.stdout.waitFor(/^listening on /).then(
        () => 'listening',
        () => server.exit, // stdout ended first: the exit code decides
      ),
    ]);
    expect(outcome).toBe(1);
    await server.stderr.ended;
    const said = server.stderr.lines.join('\n');
    expect(said).toContain(`chmod 600 ${loose}`);
    expect(said).toMatch(/\[BAD_KEY\]$/);
  },
);

test('SIGINT to the server process itself: exit code 0', async () => {
  // One process (node with tsx's loader), so the exit code is the server's own.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'stage6-auth/bin/server.ts', '--port', '0', '--key-file', keyFile],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...ENV,
        CHAT_DB_FILE: scripts.file('sigint.sqlite'),
        CHAT_BCRYPT_COST: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exit = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const stdout = new LineReader(child.stdout);
  const stderr = new LineReader(child.stderr);
  await stdout.waitFor('listening on');
  child.kill('SIGINT');
  const code = await exit;
  await stderr.ended;
  // On failure, show what the server said (its logs are on stderr).
  expect({ code, stdout: stdout.lines }).toEqual({
    code: 0,
    stdout: expect.arrayContaining(['SIGINT: shutting down', 'closed']),
  });
  expect(stderr.lines.filter((l) => !l.startsWith('{'))).toEqual([]);
});

test('a client with no server to reach: the one-line CONNECT_FAILED error of stages 2 and 4, exit code 1', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const client = run('stage6:client', [
    '--port',
    String(port),
    '--key-file',
    keyFile,
    '--user',
    'alice',
    '--password-stdin',
  ]);
  client.write('pw');
  expect(await client.exit).toBe(1);
  await client.stderr.ended;
  expect(client.stderr.lines).toEqual([
    `error: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?) [CONNECT_FAILED]`,
  ]);
});
