import { listeningPort, scriptSuite } from '../../shared/test/helpers';

const { run } = scriptSuite('stage2-scripts');

describe('npm run stage2 and npm run stage2:client, with piped stdin', () => {
  test('a scripted conversation; a second client waits for the first', async () => {
    const server = run('stage2', ['--port', '0']);
    const port = await listeningPort(server);

    const alice = run('stage2:client', ['--port', String(port)]);
    await server.stdout.waitFor(/now serving/);
    alice.write('hello from alice');
    expect(await server.stdout.waitFor(/: hello from alice$/)).toMatch(/^127\.0\.0\.1:\d+: /);

    // Bob connects and sends while alice is being served: nobody reads him.
    const bob = run('stage2:client', ['--port', String(port)]);
    await server.stdout.waitFor(/connected; waiting in line \(1 ahead\)/);
    bob.write('hello from bob');

    server.write('hi alice'); // the operator's reply to alice
    expect(await alice.stdout.next()).toBe(`127.0.0.1:${port}: hi alice`);
    expect(bob.stdout.lines).toEqual([]);

    alice.child.stdin!.end(); // alice has nothing more to say: she leaves
    expect(await alice.exit).toBe(0);
    await server.stdout.waitFor(/left$/);
    expect(await server.stdout.waitFor(/: hello from bob$/)).toBeTruthy();
    server.write('hi bob, sorry for the wait');
    expect(await bob.stdout.next()).toBe(`127.0.0.1:${port}: hi bob, sorry for the wait`);

    // The operator presses Ctrl-D: the server says goodbye, bob ends, both exit 0.
    server.child.stdin!.end();
    expect(await bob.stderr.waitFor(/^! /)).toBe('! SHUTTING_DOWN: the server is shutting down');
    expect(await bob.exit).toBe(0);
    expect(await server.exit).toBe(0);
  }, 120_000); // three npm processes on a busy machine

  test('the client reports a refused connection in one line and exits 1', async () => {
    const server = run('stage2', ['--port', '0']);
    const port = await listeningPort(server);
    server.kill('SIGTERM'); // closes cleanly (npm itself then reports the signal)
    expect(await server.stdout.waitFor(/stopped/)).toBe('server stopped');
    await server.exit;
    const client = run('stage2:client', ['--port', String(port)]);
    expect(await client.exit).toBe(1);
    await client.stderr.ended;
    expect(client.stderr.lines).toEqual([
      `error: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?) [CONNECT_FAILED]`,
    ]);
  }, 120_000);
});
