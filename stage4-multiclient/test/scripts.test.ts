import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { LineReader, listeningPort, REPO_ROOT, scriptSuite } from '../../shared/test/helpers';
import { joinRoom } from './chat-peer';

// `npm run stage4` and `npm run stage4:client` as a user runs them, with
// stdin a pipe: the clients' scriptable mode.
const { run } = scriptSuite('stage4-scripts');

/** Starts a client and waits for its welcome notice; returns it and its label. */
async function startClient(port: number) {
  const client = run('stage4:client', ['--port', String(port)]);
  const welcome = await client.stderr.waitFor('* welcome, you are');
  return { client, label: /you are (\S+) /.exec(welcome)![1]! };
}

test('two scripted clients chat through the server; SIGTERM closes the server cleanly and the client exits 0', async () => {
  const server = run('stage4', ['--port', '0']);
  const port = await listeningPort(server);

  const { client: alice, label: aliceLabel } = await startClient(port);
  const { client: bob, label: bobLabel } = await startClient(port);
  await alice.stderr.waitFor(`* ${bobLabel} joined (2 online)`);

  alice.write('hello from alice');
  expect(await bob.stdout.next()).toBe(`${aliceLabel}: hello from alice`);
  bob.write('hi alice');
  expect(await alice.stdout.next()).toBe(`${bobLabel}: hi alice`);

  // Alice's stdin ends: she leaves, exit code 0, and Bob is told.
  alice.child.stdin!.end();
  expect(await alice.exit).toBe(0);
  await bob.stderr.waitFor(`* ${aliceLabel} left (1 online)`);
  expect(alice.stdout.lines).toEqual([`${bobLabel}: hi alice`]);

  // The server's log names connections, never message text.
  await server.stdout.waitFor(`${aliceLabel} left`);
  expect(server.stdout.lines.join('\n')).not.toMatch(/hello from alice|hi alice/);

  // SIGTERM reaches the whole process group (npm, tsx, node). npm itself dies
  // of it, so its status says SIGTERM; what we check is that our server shut
  // down on its own terms (the next test checks its own exit code).
  server.kill('SIGTERM');
  await bob.stderr.waitFor('* server shutting down');
  await bob.stderr.waitFor('server closed the connection');
  expect(await bob.exit).toBe(0);
  await server.stdout.waitFor('SIGTERM: shutting down');
  await server.stdout.waitFor(/^closed$/);
  await server.exit;
  await server.stderr.ended;
  expect(server.stderr.lines).toEqual([]);
});

test('the server process itself exits 0 on SIGTERM, after telling its clients', async () => {
  // Node with tsx's loader, without npm or the tsx launcher in between, so
  // the exit code we see is the server's own.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'stage4-multiclient/bin/server.ts', '--port', '0'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  try {
    const stdout = new LineReader(child.stdout);
    const port = Number(/:(\d+)$/.exec(await stdout.waitFor('listening on '))![1]);
    const peer = await joinRoom(port);
    child.kill('SIGTERM');
    expect(await peer.lines.next()).toBe('* server shutting down');
    await peer.closed;
    expect(await exit).toBe(0);
    await stdout.ended;
    expect(stdout.lines).toContain('SIGTERM: shutting down');
    expect(stdout.lines.at(-1)).toBe('closed');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a server whose port is taken: a one-line LISTEN_FAILED error and exit code 1', async () => {
  const taken = net.createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const server = run('stage4', ['--port', String(port)]);
    expect(await server.exit).toBe(1);
    await server.stderr.ended;
    expect(server.stderr.lines).toEqual([
      `error: cannot listen on 127.0.0.1:${port}: port ${port} is already in use (is another server running?) [LISTEN_FAILED]`,
    ]);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test('a client with no server to reach: a one-line CONNECT_FAILED error and exit code 1', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const client = run('stage4:client', ['--port', String(port)]);
  expect(await client.exit).toBe(1);
  await client.stderr.ended;
  expect(client.stderr.lines).toEqual([
    `error: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?) [CONNECT_FAILED]`,
  ]);
});
