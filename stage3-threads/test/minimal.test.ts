// The smallest version of stage 3 (minimal/server.ts), run as a user runs it.
// Order, not time, shows where fib ran: `fib N` and `ping` go out in ONE
// write. On the event loop, fib is computed before the ping is even read, so
// its answer comes first; in a worker, the ping is answered first.
import { connect, LineReader, listeningPort, runScript } from '../../shared/test/helpers';

async function askFibThenPing(args: string[]): Promise<string[]> {
  const proc = runScript('stage3:minimal', ['--port', '0', ...args]);
  try {
    const socket = await connect(await listeningPort(proc));
    const reader = new LineReader(socket);
    socket.write('fib 30\nping\n');
    const answers = [await reader.next(), await reader.next()];
    socket.write('dance\n');
    answers.push(await reader.next());
    socket.destroy();
    return answers;
  } finally {
    proc.kill();
    await proc.exit;
  }
}

test('npm run stage3:minimal computes fib in a worker: the ping is answered first', async () => {
  expect(await askFibThenPing([])).toEqual(['pong', '832040', 'commands: ping, fib N']);
});

test('with --blocking, fib runs on the event loop: the ping waits for it', async () => {
  expect(await askFibThenPing(['--blocking'])).toEqual(['832040', 'pong', 'commands: ping, fib N']);
});
