// The smallest version of stage 1 (minimal/server.ts), run as a user runs it.
import { connect, LineReader, listeningPort, runScript } from '../../shared/test/helpers';

test('npm run stage1:minimal prints both ends of one connection, says goodbye, and exits', async () => {
  const proc = runScript('stage1:minimal', ['--port', '0']);
  try {
    const port = await listeningPort(proc);
    expect(proc.stdout.lines[0]).toBe(`listening on 127.0.0.1:${port}`);
    const socket = await connect(port);
    const clientPort = socket.localPort; // read it now: a closed socket forgets it
    const reader = new LineReader(socket);
    expect(await reader.next()).toBe('goodbye');
    await reader.ended; // the server's FIN; Node closes our side in reply
    expect(await proc.exit).toBe(0);
    await proc.stdout.ended;
    expect(proc.stdout.lines).toEqual([
      `listening on 127.0.0.1:${port}`,
      `client 127.0.0.1:${clientPort} connected to server 127.0.0.1:${port}`,
    ]);
    expect(proc.stderr.lines).toEqual([]);
  } finally {
    proc.kill();
    await proc.exit;
  }
});
