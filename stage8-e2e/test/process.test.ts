// As a user runs them: `npm run stage8` on a fresh data folder, two
// `npm run stage8:client -- --register` users chat end to end and compare
// safety numbers with /verify; the key files are 0600; a wrong password
// cannot unlock the key file (and nothing reaches the server).
import fs from 'node:fs';
import path from 'node:path';
import { listeningPort, scriptSuite, type ScriptProcess } from '../../shared/test/helpers';

jest.setTimeout(120_000);

const scripts = scriptSuite('stage8-process', { LOG_LEVEL: 'warn' });
const run = scripts.run;

test('npm run stage8; two stage8:client --register users chat end to end and /verify agrees; a wrong password stays local', async () => {
  const data = scripts.file('data');
  const server = run('stage8', ['--port', '0', '--data-dir', data, '--bcrypt-cost', '4']);
  const fingerprint = (await server.stdout.waitFor(/^fingerprint: /)).slice('fingerprint: '.length);
  const port = String(await listeningPort(server));
  const keys = scripts.file('keys');
  const client = (user: string, ...extra: string[]) =>
    run('stage8:client', [
      '--port', port, '--user', user, '--password-stdin',
      '--server-fingerprint', fingerprint,
      '--known-servers', scripts.file('known_servers'),
      '--ticket-dir', scripts.file('tickets'),
      '--key-dir', keys,
      ...extra,
    ]); // prettier-ignore

  const bob = client('bob', '--register');
  bob.write('bob has a long password');
  await bob.stderr.waitFor(/logged in as bob/);
  const alice = client('alice', '--register');
  alice.write('alice has a long password');
  await bob.stderr.waitFor(/alice joined/);
  alice.write('hello, only bob can read this');
  expect(await bob.stdout.waitFor(/^alice:/)).toBe('alice: hello, only bob can read this');
  bob.write('and only alice this');
  expect(await alice.stdout.waitFor(/^bob:/)).toBe('bob: and only alice this');

  const safetyNumber = async (proc: ScriptProcess, other: string) => {
    proc.write(`/verify ${other}`);
    await proc.stderr.waitFor(new RegExp(`safety number with ${other}`));
    const lines = [];
    for (let i = 0; i < 3; i++) lines.push(await proc.stderr.waitFor(/^\*\s+\d{5}/));
    return lines.join(' ');
  };
  const a = await safetyNumber(alice, 'bob');
  expect(a).toMatch(/\d{5}/);
  expect(await safetyNumber(bob, 'alice')).toBe(a);

  // A command without its NAME is not a message: alice is told, bob sees nothing of it.
  alice.write('/verify');
  await alice.stderr.waitFor(/not sent: \/verify is not a command here/);
  alice.write('after the typo');
  expect(await bob.stdout.waitFor(/^alice:/)).toBe('alice: after the typo');

  for (const file of ['alice.identity', 'bob.identity']) {
    expect(fs.statSync(path.join(keys, file)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(keys, file), 'utf8')).not.toContain('PRIVATE KEY');
  }
  alice.write('/quit');
  expect(await alice.exit).toBe(0);
  await bob.stderr.waitFor(/alice left/);

  const wrong = client('alice');
  wrong.write('not the password at all');
  expect(await wrong.exit).toBe(1);
  expect(await wrong.stderr.waitFor(/KEY_LOCKED/)).toMatch(/wrong password/);

  // Lost the key file: nothing to unlock; --new-keys makes new ones, and bob is warned.
  fs.rmSync(path.join(keys, 'alice.identity'));
  const missing = client('alice');
  missing.write('alice has a long password');
  expect(await missing.exit).toBe(1);
  await missing.stderr.waitFor(/KEY_MISSING/);
  const renewed = client('alice', '--new-keys');
  renewed.write('alice has a long password');
  await renewed.stderr.waitFor(/logged in as alice/);
  expect(await bob.stderr.waitFor(/MEMBER_KEY_CHANGED/)).toMatch(/alice's key changed/);
  renewed.write('/quit');
  expect(await renewed.exit).toBe(0);

  bob.write('/quit');
  expect(await bob.exit).toBe(0);
  server.kill('SIGTERM');
  await server.stdout.waitFor(/shutting down/);
});

test('npm run stage8:client with no --key-dir looks in .data/e2e (it crashed before reading its options)', async () => {
  const client = run(
    'stage8:client',
    ['--port', '1', '--user', 'nobody-here', '--password-stdin', '--no-ticket'],
    { CHAT_KEY_DIR: '' },
  );
  client.write('a long enough password');
  expect(await client.exit).toBe(1);
  const error = await client.stderr.waitFor(/^error: /);
  expect(error).toContain(path.join('.data', 'e2e', 'nobody-here.identity'));
  expect(error).toMatch(/\[KEY_MISSING\]$/);
});
