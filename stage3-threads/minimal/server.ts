// Stage 3, the smallest version: CPU-heavy work in a worker thread, so the
// event loop keeps answering everyone else. `fib N` is the heavy work,
// `ping` the cheap one.
//   npm run stage3:minimal                  fib runs in a worker: ping is answered at once
//   npm run stage3:minimal -- --blocking    fib runs on the event loop: ping waits for it
// then, in another terminal, `nc 127.0.0.1 5050`, and type `fib 42` then `ping`.
//
// What the real stage (src/server.ts, shared/src/worker-pool.ts) adds, and why:
// - a fixed pool of workers started once: here every `fib` starts a new
//   thread (measured: 0.3 s and 10 MiB each), so 100 requests start 100
//   threads and take a gigabyte;
// - a bounded queue: when every worker is busy and the queue is full, a new
//   request gets SERVICE_UNAVAILABLE at once instead of waiting without limit;
// - replies in the order each client asked (here `fib 40` then `fib 1`
//   are answered `1` first), and a limit on requests pending per client;
// - a failing request fails alone: here `fib 100000` overflows the stack,
//   nobody handles the rejected promise, and the whole server exits;
// - bcrypt instead of fib: the CPU work stage 6 really does, for passwords;
// - the line limit and error lines of stage 2.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

// The heavy work: a deliberately slow Fibonacci (fib 42 takes seconds).
const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));

function fibInWorker(n: number): Promise<number> {
  // A new thread runs this same file (see the bottom), with its own event
  // loop. Node 20 cannot load a .ts file in a worker by itself, so tsx's
  // hook comes first; in plain JavaScript this is `new Worker(__filename, { workerData: n })`.
  const execArgv = ['--require', require.resolve('tsx/cjs')];
  const worker = new Worker(__filename, { workerData: n, execArgv });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

function startServer(): void {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '5050' }, blocking: { type: 'boolean' } },
  });
  const server = net.createServer((socket) => {
    const lines = readline.createInterface({ input: socket });
    // A reset is just a client leaving. readline passes the socket's errors
    // on, and an 'error' event nobody listens to would crash the server.
    lines.on('error', () => {});
    lines.on('line', async (line) => {
      const n = /^fib (\d+)$/.exec(line)?.[1];
      if (line === 'ping') socket.write('pong\n');
      else if (n === undefined) socket.write('commands: ping, fib N\n');
      // --blocking: computed right here, and no other socket is served meanwhile.
      else if (values.blocking) socket.write(`${fib(Number(n))}\n`);
      else socket.write(`${await fibInWorker(Number(n))}\n`);
    });
  });
  server.listen(Number(values.port), '127.0.0.1', () => {
    console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  });
}

// Started as a worker: compute one fib and hand it back. Started by you: serve.
if (isMainThread) startServer();
else parentPort!.postMessage(fib(workerData as number));
