import { connect, LineReader, listeningPort, runScript } from '../../shared/test/helpers';

describe('npm run stage1', () => {
  test('prints where it listens, who connected, and exits 0 after one connection', async () => {
    const proc = runScript('stage1', ['--port', '0']);
    try {
      const port = await listeningPort(proc);
      expect(proc.stdout.lines[0]).toBe(`listening on 127.0.0.1:${port}`);
      const socket = await connect(port);
      const reader = new LineReader(socket);
      expect(await reader.next()).toMatch(/^hello 127\.0\.0\.1:\d+, you reached/);
      await reader.ended;
      const line = await proc.stdout.waitFor(/^client /);
      expect(line).toBe(
        `client 127.0.0.1:${socket.localPort} connected to server 127.0.0.1:${port}`,
      );
      expect(await proc.exit).toBe(0);
      await proc.stdout.ended;
      expect(proc.stdout.lines.at(-1)).toMatch(/connection closed and server stopped listening/);
      expect(proc.stderr.lines).toEqual([]);
    } finally {
      proc.kill();
      await proc.exit;
    }
  });

  test('a bad --port exits 2 with a one-line error', async () => {
    const proc = runScript('stage1', ['--port', 'abc']);
    expect(await proc.exit).toBe(2);
    await proc.stderr.ended;
    expect(proc.stderr.lines).toEqual([
      'error: invalid port "abc" (expected 0-65535) [BAD_ARGUMENT]',
    ]);
    expect(proc.stdout.lines).toEqual([]);
  });
});
