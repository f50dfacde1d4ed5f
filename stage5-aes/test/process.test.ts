import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { listeningPort, scriptSuite } from '../../shared/test/helpers';

// These tests run the npm scripts as a user would: `npm run keygen`,
// `npm run stage5` and `npm run stage5:client`, as separate processes.
const scripts = scriptSuite('stage5');
const run = scripts.run;

test('npm run keygen writes a 0600 key file and will not overwrite it without --force', async () => {
  const file = scripts.file('keygen-test.key');
  const first = run('keygen', ['--key-file', file]);
  expect(await first.exit).toBe(0);
  // One tool serves stages 5 and 6: its closing words must be true in both.
  await first.stdout.ended;
  const said = first.stdout.lines.join(' ');
  expect(said).toContain('The stage 5 server never needs it');
  expect(said).toMatch(/the stage 6 server does \(it opens the login boxes\)/);
  expect(said).not.toMatch(/the server does not need it/);
  const key = fs.readFileSync(file, 'utf8');
  expect(key).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  const again = run('keygen', [], { CHAT_KEY_FILE: file }); // the path may come from the environment
  expect(await again.exit).toBe(1);
  await again.stderr.waitFor(/already exists; pass --force.*\[KEY_EXISTS\]/);
  expect(fs.readFileSync(file, 'utf8')).toBe(key);

  const forced = run('keygen', ['--key-file', file, '--force']);
  expect(await forced.exit).toBe(0);
  expect(fs.readFileSync(file, 'utf8')).not.toBe(key);
});

test('npm run stage5 and two npm run stage5:client processes chat; a client without a key refuses to start', async () => {
  const keyFile = scripts.file('room.key');
  expect(await run('keygen', ['--key-file', keyFile]).exit).toBe(0);
  const server = run('stage5', ['--port', '0']);
  const port = String(await listeningPort(server));
  const clientArgs = ['--port', port, '--key-file', keyFile];

  const alice = run('stage5:client', clientArgs);
  const aliceLabel = /you are (\S+)/.exec(await alice.stderr.waitFor('* welcome'))![1];
  const bob = run('stage5:client', clientArgs);
  const bobLabel = /you are (\S+)/.exec(await bob.stderr.waitFor('* welcome'))![1];

  alice.write('hello from alice');
  await bob.stdout.waitFor(`${aliceLabel}: hello from alice`);
  bob.write('hi alice');
  await alice.stdout.waitFor(`${bobLabel}: hi alice`);

  // No key file: a clear message and a non-zero exit, and it never joins.
  const lost = run('stage5:client', ['--port', port, '--key-file', scripts.file('none.key')]);
  expect(await lost.exit).toBe(1);
  await lost.stderr.waitFor(/no key file at .*npm run keygen.*\[KEY_MISSING\]/);

  // Alice's input ends: she leaves, and exits 0 once her messages are delivered.
  alice.child.stdin!.end();
  expect(await alice.exit).toBe(0);
  await bob.stderr.waitFor(`* ${aliceLabel} left (1 online)`);

  // The server stops while bob's input is still open: bob exits 0 by himself.
  // (SIGTERM reaches the whole process group; npm itself dies of it, so we
  // check that our server shut down on its own terms rather than npm's status.)
  server.kill('SIGTERM');
  await bob.stderr.waitFor('* server shutting down');
  expect(await bob.exit).toBe(0);
  await server.stdout.waitFor('SIGTERM: shutting down');
  await server.stdout.waitFor(/^closed$/);
  await server.stderr.ended;
  expect(server.stderr.lines).toEqual([]);
  // The server never saw the client that had no key, and never printed a message.
  const serverOutput = server.stdout.lines.join('\n');
  expect(serverOutput.match(/joined/g)).toHaveLength(2);
  expect(serverOutput).not.toMatch(/hello from alice|hi alice/);
});

test('quitting never hangs: a server that never closes its side cannot keep the client alive', async () => {
  const keyFile = scripts.file('hang.key');
  expect(await run('keygen', ['--key-file', keyFile]).exit).toBe(0);
  // A "server" that accepts, reads, and never answers or closes (allowHalfOpen
  // keeps its side open after the client's FIN).
  const sockets: net.Socket[] = [];
  const silent = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const client = run('stage5:client', ['--port', String(port), '--key-file', keyFile]);
    await once(silent, 'connection');
    client.write('anyone there?');
    client.child.stdin!.end();
    expect(await client.exit).toBe(0);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

test('a client with no server to reach: the one-line CONNECT_FAILED error of stages 2 and 4, exit code 1', async () => {
  const keyFile = scripts.file('refused.key');
  expect(await run('keygen', ['--key-file', keyFile]).exit).toBe(0);
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const client = run('stage5:client', ['--port', String(port), '--key-file', keyFile]);
  expect(await client.exit).toBe(1);
  await client.stderr.ended;
  expect(client.stderr.lines).toEqual([
    `error: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?) [CONNECT_FAILED]`,
  ]);
});
