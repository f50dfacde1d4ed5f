// Attack (issue 10, item 4): running the server out of file descriptors.
// Every open socket is a file descriptor, and there was no cap on connections
// that have not logged in: an attacker who opens (and keeps reopening) idle
// connections takes every descriptor the process may have. Past that limit
// the kernel's accept fails with EMFILE; libuv then accepts and at once closes
// each pending connection, so real clients were let in and dropped with no
// `hello`, and the server logged nothing.
//
// The real server process runs under a low open-file limit (`prlimit`, as an
// operator's `ulimit -n` would set it). 2,000 idle connections arrive from
// 127.0.0.2, far more than the limit; then a real client on 127.0.0.1 must
// still register and be welcomed.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../../shared/src/crypto';
import { saveKeyFile } from '../../shared/src/key-file';
import { LineReader, REPO_ROOT } from '../../shared/test/helpers';
import { connectAndLogIn } from '../src/client-login';

const OPEN_FILE_LIMIT = 256;
const FLOOD = 2000;

let dir: string;
let child: ChildProcess | undefined;
const flood: net.Socket[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage6-fd-flood-'));
});
afterAll(() => {
  for (const socket of flood) socket.destroy();
  child?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens one connection from `localAddress`; resolves once it got `hello` or was closed. */
function idleConnection(port: number, localAddress: string): Promise<'hello' | 'closed'> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  flood.push(socket);
  socket.on('error', () => {});
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) =>
      resolve(chunk.toString().includes('"hello"') ? 'hello' : 'closed'),
    );
    socket.once('close', () => resolve('closed'));
  });
}

test('thousands of idle connections from one address do not lock a real client out', async () => {
  const keyFile = path.join(dir, 'room.key');
  const key = generateKey();
  saveKeyFile(keyFile, key);
  child = spawn(
    'prlimit',
    [
      `--nofile=${OPEN_FILE_LIMIT}:${OPEN_FILE_LIMIT}`,
      process.execPath,
      ...['--require', 'tsx/cjs', 'stage6-auth/bin/server.ts'],
      ...['--port', '0', '--key-file', keyFile, '--db-file', path.join(dir, 'chat.sqlite')],
      ...['--bcrypt-cost', '4'],
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, CHAT_DB_URL: '', CHAT_KEY_FILE: '', CHAT_DB_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stdout = new LineReader(child.stdout!);
  const stderr = new LineReader(child.stderr!);
  const port = Number(/:(\d+)$/.exec(await stdout.waitFor(/^listening on /))![1]);

  // 2,000 connections from the attacker's address, opened 100 at a time;
  // each either gets its hello (and then idles) or is closed by the server.
  const outcomes: string[] = [];
  for (let i = 0; i < FLOOD; i += 100) {
    const batch = Array.from({ length: 100 }, () => idleConnection(port, '127.0.0.2'));
    outcomes.push(...(await Promise.all(batch)));
  }
  const greeted = outcomes.filter((o) => o === 'hello').length;

  // The real user, from another address, gets in.
  const alice = await connectAndLogIn({
    host: '127.0.0.1',
    port,
    key,
    username: 'alice',
    password: 'alice-password',
    register: true,
  });
  expect(alice.username).toBe('alice');
  alice.socket.destroy();

  // The attacker holds only a few connections (the per-address cap), and the
  // refusals were logged as counts, not one line per connection.
  expect(greeted).toBeLessThan(100);
  const refusalLines = stderr.lines.filter((l) => l.includes('TOO_MANY_CONNECTIONS'));
  expect(refusalLines.length).toBeGreaterThan(0);
  expect(refusalLines.length).toBeLessThan(50);
  child.kill('SIGTERM');
  await once(child, 'exit');
}, 120_000);
