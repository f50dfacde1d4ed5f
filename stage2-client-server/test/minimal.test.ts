// The smallest version of stage 2 (minimal/server.ts and minimal/client.ts),
// run as a user runs them: the operator's replies and the client's lines come
// from their stdin.
import { listeningPort, runScript } from '../../shared/test/helpers';

test('npm run stage2:minimal and stage2:minimal:client take turns, one line each', async () => {
  const server = runScript('stage2:minimal', ['--port', '0']);
  let client: ReturnType<typeof runScript> | undefined;
  try {
    const port = await listeningPort(server);
    // The operator's replies are typed ahead; the server still reads one only
    // after each client line, so they pair up in order.
    server.write('hi there');
    server.write('fine, thanks');
    server.child.stdin!.end();
    client = runScript('stage2:minimal:client', ['--port', String(port)]);
    client.write('hello');
    client.write('héllo, how are you? 👋');
    client.child.stdin!.end();

    expect(await client.exit).toBe(0);
    expect(await server.exit).toBe(0);
    await Promise.all([client.stdout.ended, server.stdout.ended]);
    expect(client.stdout.lines).toEqual(['server: hi there', 'server: fine, thanks']);
    expect(server.stdout.lines).toEqual([
      `listening on 127.0.0.1:${port}`,
      'client: hello',
      'client: héllo, how are you? 👋',
    ]);
    expect([...client.stderr.lines, ...server.stderr.lines]).toEqual([]);
  } finally {
    client?.kill();
    server.kill();
    await Promise.all([client?.exit, server.exit]);
  }
});
