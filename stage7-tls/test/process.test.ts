// As a user runs them: `npm run stage7` on a fresh data folder creates its
// identity and says so, prints the fingerprint and `listening on`; clients
// started with `npm run stage7:client` pin it, chat, come back with a
// ticket, and are refused loudly without a fingerprint; SIGTERM says bye.
import fs from 'node:fs';
import path from 'node:path';
import { listeningPort, scriptSuite } from '../../shared/test/helpers';

const scripts = scriptSuite('stage7-process', { LOG_LEVEL: 'warn' });
const run = scripts.run;

test('npm run stage7 from nothing; two clients pin it and chat; a ticket brings one back; SIGTERM ends all', async () => {
  const data = scripts.file('data');
  const server = run('stage7', ['--port', '0', '--data-dir', data, '--bcrypt-cost', '4']);
  await server.stdout.waitFor(/created a self-signed certificate/);
  const fingerprint = (await server.stdout.waitFor(/^fingerprint: /)).slice('fingerprint: '.length);
  expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  const port = String(await listeningPort(server));
  for (const file of ['server.key', 'ticket.key']) {
    expect(fs.statSync(path.join(data, file)).mode & 0o777).toBe(0o600);
  }
  const client = (user: string, ...extra: string[]) =>
    run('stage7:client', [
      '--port', port, '--user', user, '--password-stdin',
      '--known-servers', scripts.file('known_servers'),
      '--ticket-dir', scripts.file('tickets'),
      ...extra,
    ]); // prettier-ignore

  // Non-interactive first contact without the fingerprint: refused, naming it.
  const stranger = client('carol', '--register');
  stranger.write('a long enough password');
  expect(await stranger.exit).toBe(1);
  expect(await stranger.stderr.waitFor(/UNKNOWN_SERVER/)).toContain(fingerprint);

  const bob = client('bob', '--register', '--server-fingerprint', fingerprint);
  bob.write('a long enough password');
  await bob.stderr.waitFor(/logged in as bob/);
  const alice = client('alice', '--register'); // the pin is known now
  alice.write('a long enough password');
  alice.write('hello over TLS');
  expect(await bob.stdout.waitFor(/^alice:/)).toBe('alice: hello over TLS');
  alice.write('/quit');
  expect(await alice.exit).toBe(0);

  // Back with the ticket: the password line is there, but not needed.
  const again = client('alice');
  again.write('a wrong password, unused');
  expect(await again.stderr.waitFor(/logged in as alice/)).toContain('with a ticket');

  server.kill('SIGTERM');
  await bob.stderr.waitFor(/server says goodbye/);
  await server.stdout.waitFor(/^closed$/);
  expect(await bob.exit).toBe(0);
  expect(await again.exit).toBe(0);
});
