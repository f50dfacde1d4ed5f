/**
 * Stage 3's npm scripts run as a user runs them: as processes, driven over a
 * real socket or read from stdout.
 */
import bcrypt from 'bcryptjs';
import { connect, LineReader, listeningPort, runScript } from '../../shared/test/helpers';

test('npm run stage3:server -- --port 0 --mode pool serves ping and hash', async () => {
  const proc = runScript('stage3:server', [
    '--port',
    '0',
    '--mode',
    'pool',
    '--workers',
    '2',
    '--cost',
    '4',
  ]);
  try {
    const port = await listeningPort(proc);
    expect(proc.stdout.lines[0]).toMatch(
      /^mode pool: bcrypt cost 4 hashes run in 2 worker threads/,
    );
    const socket = await connect(port);
    const lines = new LineReader(socket);
    socket.write('hash from a process\nping\n');
    expect(await lines.next()).toBe('pong');
    expect(bcrypt.compareSync('from a process', await lines.next())).toBe(true);
    socket.end();
    await lines.ended;

    // SIGTERM goes to the whole process group (npm, tsx, node). npm itself
    // dies of it, so its exit status says SIGTERM; what matters is that our
    // server shut down on its own terms and printed nothing on stderr.
    proc.kill('SIGTERM');
    await proc.stdout.waitFor('SIGTERM: closing');
    await proc.stdout.waitFor(/^closed$/);
    await proc.exit;
    await proc.stderr.ended;
    expect(proc.stderr.lines).toEqual([]);
  } finally {
    proc.kill('SIGKILL');
    await proc.exit;
  }
});

test('npm run stage3:server refuses a bad --mode with a usage error', async () => {
  const proc = runScript('stage3:server', ['--port', '0', '--mode', 'fast']);
  expect(await proc.exit).toBe(2);
  await proc.stderr.ended;
  expect(proc.stderr.lines.join('\n')).toMatch(
    /--mode must be "blocking" or "pool".*\[BAD_ARGUMENT\]/,
  );
});

test('npm run stage3 measures both modes and prints their numbers', async () => {
  const proc = runScript('stage3', ['--hashes', '2', '--cost', '4', '--workers', '2']);
  expect(await proc.exit).toBe(0);
  await proc.stdout.ended;
  const out = proc.stdout.lines.join('\n');
  const number = String.raw`\d+(\.\d+)?`;
  expect(out).toMatch(/^2 bcrypt hashes \(cost 4\)/);
  expect(out).toMatch(new RegExp(String.raw`^blocking\s+${number}\s+${number} ms`, 'm'));
  expect(out).toMatch(new RegExp(String.raw`^pool \(2 workers\)\s+${number}\s+${number} ms`, 'm'));
  expect(out).toMatch(/^blocking: ping max /m);
  expect(out).toMatch(/^pool \(2 workers\): ping max /m);
});
