/**
 * A `redis-server` of the test's own, on a free port, for the fault tests:
 * they stop and restart Redis, which must never be the machine's.
 * No persistence (`--save ""`, `--appendonly no`): a restart starts empty,
 * as after a crash of a cache-only Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { LineReader } from '../../shared/test/helpers';

/** A redis-server this test owns. */
export interface OwnRedis {
  /** Its port. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

// Resolves once the server logs that it is ready; rejects if it exits first.
async function launch(port: number, extra: string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stdout = new LineReader(child.stdout!);
  await stdout.waitFor('Ready to accept connections');
  return child;
}

/**
 * Starts a redis-server on a free port.
 *
 * @param extra - more arguments, e.g. `['--client-output-buffer-limit', 'pubsub 256kb 0 0']`
 */
export async function startOwnRedis(extra: string[] = []): Promise<OwnRedis> {
  let port = 0;
  let child: ChildProcess | undefined;
  // Another process may take the free port before redis-server does: retry.
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    child = await launch(port, extra).catch((err: unknown) => {
      if (attempt === 2) throw err;
      return undefined;
    });
  }
  const stop = async () => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      child = await launch(port, extra);
    },
  };
}
