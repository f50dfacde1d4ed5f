// As a user runs them: `npm run stage7:minimal` and its client as processes,
// and `npm run certgen` writing real files.
import fs from 'node:fs';
import { loadCertificateFiles } from '../../shared/src/certificate';
import { loadTicketKeys } from '../../shared/src/login-ticket';
import { listeningPort, scriptSuite } from '../../shared/test/helpers';

const scripts = scriptSuite('stage7-scripts');
const run = scripts.run;

test('npm run stage7:minimal echoes through TLS to a client that pinned its key, and gets nothing from one with another pin', async () => {
  const server = run('stage7:minimal', ['--port', '0']);
  const fingerprint = (await server.stdout.waitFor(/^fingerprint: /)).slice('fingerprint: '.length);
  expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  const port = String(await listeningPort(server));

  const wrong = 'SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M';
  const refused = run('stage7:minimal:client', ['--port', port, '--fingerprint', wrong]);
  refused.write('my secret');
  refused.child.stdin!.end();
  expect(await refused.exit).toBe(1);
  await refused.stderr.ended;
  expect(refused.stderr.lines).toEqual([
    `error: server key is ${fingerprint}, expected ${wrong}; nothing was sent [FINGERPRINT_MISMATCH]`,
  ]);

  const client = run('stage7:minimal:client', ['--port', port, '--fingerprint', fingerprint]);
  await client.stderr.waitFor(`* connected; the server's key matches ${fingerprint}`);
  client.write('hello through TLS');
  client.child.stdin!.end();
  expect(await client.stdout.next()).toBe('hello through TLS');
  expect(await client.exit).toBe(0);

  // The server's own account: only the pinned client's 18 bytes ever arrived.
  await server.stdout.waitFor(/closed after 18 bytes$/);
  const counts = server.stdout.lines.flatMap((l) => /closed after (\d+) bytes$/.exec(l)?.[1] ?? []);
  expect(counts.filter((n) => n !== '0')).toEqual(['18']);
});

test('npm run certgen writes a 0600 certificate, key and ticket key, prints the fingerprint, and refuses to overwrite', async () => {
  const cert = scripts.file('id', 'server.crt');
  const key = scripts.file('id', 'server.key');
  const args = ['--cert', cert, '--key', key, '--name', 'chat.example.org', '--days', '30'];
  const first = run('certgen', args);
  expect(await first.exit).toBe(0);
  await first.stdout.ended;
  const loaded = loadCertificateFiles(cert, key);
  expect(first.stdout.lines).toContain(`fingerprint: ${loaded.fingerprint}`);
  expect(first.stdout.lines).toContain(
    `  npm run stage7:client -- --server-fingerprint ${loaded.fingerprint}`,
  );
  expect(loaded.leaf.subjectAltName).toContain('DNS:chat.example.org');
  const ticketKey = scripts.file('id', 'ticket.key');
  expect(loadTicketKeys(ticketKey)).toBeDefined();
  for (const file of [cert, key, ticketKey]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  const again = run('certgen', args);
  expect(await again.exit).toBe(1);
  await again.stderr.ended;
  expect(again.stderr.lines.join('\n')).toMatch(/already exists; pass --force.*\[KEY_EXISTS\]$/);
  expect(loadCertificateFiles(cert, key).fingerprint).toBe(loaded.fingerprint); // untouched

  const forced = run('certgen', [...args, '--force', '--algorithm', 'ed25519']);
  expect(await forced.exit).toBe(0);
  const replaced = loadCertificateFiles(cert, key);
  expect(replaced.fingerprint).not.toBe(loaded.fingerprint);
  expect(replaced.leaf.publicKey.asymmetricKeyType).toBe('ed25519');

  const bad = run('certgen', ['--algorithm', 'rsa', '--cert', cert, '--key', key]);
  expect(await bad.exit).toBe(2);
});
