/**
 * A server whose output nobody reads any more (`npm run stage4 | head -3`, a
 * log collector that restarts) keeps serving: its next log line fails with
 * EPIPE, and before keepServingWithoutOutput (shared/src/cli.ts) that error
 * ended the process, and the chat of everyone in the room, with a stack
 * trace. Each case starts a server as its npm script does, closes our end
 * of its stdout and stderr once it listens, and then uses it. The last two
 * cases close a client's output: it ends its session and exits 0 (it
 * crashed too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, LineReader, REPO_ROOT } from './helpers';

const started: ChildProcess[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closed-output-'));
afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a server's entry file as its npm script does (node with tsx's
 * loader; no npm in between, so the exit code is the server's own), waits
 * until it listens, then closes our end of its stdout and stderr.
 */
async function startDeaf(entry: string, args: string[] = [], stdin: 'ignore' | 'pipe' = 'ignore') {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', entry, '--port', '0', ...args], {
    cwd: REPO_ROOT,
    stdio: [stdin, 'pipe', 'pipe'],
  });
  started.push(child);
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const line = await new LineReader(child.stdout!).waitFor('listening on ');
  child.stdout!.destroy();
  child.stderr!.destroy();
  return { child, exit, port: Number(/:(\d+)$/.exec(line)![1]) };
}

/** The first bytes the server sends on `socket`; fails if it closes first. */
function firstBytes(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('close', () => reject(new Error('the server closed the connection first')));
  });
}

// Each connection is logged (a join, a leave): the first such line meets the closed pipe.
test.each([['stage4-multiclient'], ['stage5-aes']])(
  '%s keeps its room after its output closes, and still exits 0 on SIGTERM',
  async (stage) => {
    const { child, exit, port } = await startDeaf(`${stage}/bin/server.ts`);
    const first = await connect(port);
    await firstBytes(first); // welcomed, and its join logged into the closed pipe
    first.destroy(); // its leave is logged too
    const second = await connect(port);
    expect((await firstBytes(second)).length).toBeGreaterThan(0);
    second.destroy();
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  },
  60_000,
);

test('stage 6 (which logs to stderr) keeps serving and exits 0 on SIGTERM', async () => {
  const { child, exit, port } = await startDeaf('stage6-auth/bin/server.ts', [
    ...['--key-file', path.join(dir, 'room.key'), '--db-file', path.join(dir, 'users.sqlite')],
  ]);
  for (let i = 0; i < 2; i++) {
    const socket = await connect(port);
    await firstBytes(socket);
    socket.destroy();
  }
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
}, 60_000);

test('stage 1 serves its one connection and exits 0', async () => {
  const { exit, port } = await startDeaf('stage1-basic-server/bin/server.ts');
  (await connect(port)).destroy();
  expect(await exit).toBe(0);
}, 60_000);

/**
 * Starts a client's entry file on `port` with piped stdio; `quiet()` then
 * checks that it exits 0 with nothing about EPIPE or an error on its stderr.
 */
function startClient(entry: string, port: number) {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', entry, '--port', String(port)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const stderr = new LineReader(child.stderr);
  const quiet = async () => {
    expect(await exit).toBe(0);
    await stderr.ended;
    expect(stderr.lines.join('\n')).not.toMatch(/EPIPE|Error/);
  };
  return { child, quiet };
}

// A client is the other way round: its output is the person. When nobody
// reads it any more, it leaves the room as at the end of its input, and exits 0.
test('a stage 4 client whose output closes leaves the room and exits 0', async () => {
  const server = await startDeaf('stage4-multiclient/bin/server.ts');
  const peerSocket = await connect(server.port);
  const peer = new LineReader(peerSocket);
  await peer.waitFor('* welcome');
  const client = startClient('stage4-multiclient/bin/client.ts', server.port);
  const label = /\* (\S+) joined/.exec(await peer.waitFor(/ joined /))![1]!;
  client.child.stdout.destroy();
  peerSocket.write('is anyone reading?\n'); // the client prints it: EPIPE
  await peer.waitFor(`* ${label} left`);
  await client.quiet();
}, 60_000);

test('a stage 2 client whose output closes ends as at the end of its input, and exits 0', async () => {
  // Stage 2's operator answers each message with its next stdin line.
  const server = await startDeaf('stage2-client-server/bin/server.ts', [], 'pipe');
  server.child.stdin!.write('pong\n');
  const client = startClient('stage2-client-server/bin/client.ts', server.port);
  client.child.stdout.destroy(); // before it prints anything
  client.child.stdin.write('ping\n'); // its reply, "…: pong", is printed on stdout: EPIPE
  await client.quiet();
}, 60_000);
