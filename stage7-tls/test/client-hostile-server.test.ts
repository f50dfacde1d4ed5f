// The stage 7 client against a server that does not play fair (one whose
// key the person pinned, then turned hostile, or a broken one). Each case
// was reproduced against the client before its fix:
// - a refusal's text carried terminal escapes into the error at exit;
// - a server that pings and never reads grew the client's memory without
//   end, one pong per ping;
// - a server that took the login and said nothing kept the client waiting
//   for ever, while every line piped into it was kept in memory.
import { once } from 'node:events';
import fs from 'node:fs';
import type tls from 'node:tls';
import { PassThrough } from 'node:stream';
import { startFakeTlsServer, type FakeTlsServer } from '../../testkit/fake-tls-server';
import { connectAndLogIn } from '../src/client-login';
import { runClient } from '../src/client';
import { ALPN_PROTOCOL, decodeClientFrame, encodeServerFrame } from '../src/messages';
import { pinTo, tempDir } from './harness';

jest.setTimeout(60_000);

const welcome = encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] });

let dir: string;
let fake: FakeTlsServer | undefined;
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(onLine: (socket: tls.TLSSocket, line: string) => void) {
  fake = await startFakeTlsServer(ALPN_PROTOCOL, onLine);
  return fake;
}

function logIn(server: FakeTlsServer, answerTimeoutMs?: number) {
  return connectAndLogIn({
    host: '127.0.0.1',
    port: server.port,
    trust: pinTo(dir, server.certificate.fingerprint),
    username: 'alice',
    password: () => Promise.resolve('alice-password'),
    answerTimeoutMs,
  });
}

test("a refusal's terminal escapes are kept out of the client's error", async () => {
  const server = await serve((socket) => {
    const message = 'x\x1b[2J\x1b]0;pwned\x07 FAKE: your password leaked\nerror: run this';
    socket.end(encodeServerFrame({ type: 'error', code: 'AUTH_FAILED', message }));
  });
  const refused = await logIn(server).catch((err: Error) => err);
  expect(refused).toMatchObject({ code: 'AUTH_FAILED' });
  expect((refused as Error).message).toBe(
    'x\\x1b[2J\\x1b]0;pwned\\x07 FAKE: your password leaked\\x0aerror: run this',
  );
});

test('a server that pings and never reads: pongs do not pile up in the client', async () => {
  const PINGS_BYTES = 16 * 1024 * 1024;
  const ping = Buffer.from('{"type":"ping"}\n'.repeat(4096));
  const server = await serve((socket) => {
    socket.write(welcome);
    socket.pause(); // reads nothing more: every pong stays with the client
    let sent = 0;
    const pump = () => {
      while (sent < PINGS_BYTES) {
        sent += ping.length;
        if (!socket.write(ping)) return;
      }
    };
    socket.on('drain', pump);
    pump();
  });
  const session = await logIn(server);
  session.frames.listen(() => {});
  let mostQueued = 0;
  let received = 0;
  await new Promise<void>((resolve) => {
    session.socket.on('data', (chunk: Buffer) => {
      mostQueued = Math.max(mostQueued, session.socket.writableLength);
      received += chunk.length;
      if (received >= PINGS_BYTES) resolve();
    });
  });
  // A million pings read; at most one pong waits (before: megabytes).
  expect(mostQueued).toBeLessThanOrEqual(64);
  session.socket.destroy();
});

test('a server that takes the login and says nothing: LOGIN_TIMEOUT, not a wait for ever', async () => {
  const server = await serve(() => {});
  await expect(logIn(server, 200)).rejects.toMatchObject({
    code: 'LOGIN_TIMEOUT',
    message: `no answer to the login from 127.0.0.1:${server.port} within 0.2 s`,
  });
});

test('lines piped in while the login waits: reading pauses at the limit, and none is lost', async () => {
  const LINES = 2500;
  let loggingIn!: (socket: tls.TLSSocket) => void;
  const loginSeen = new Promise<tls.TLSSocket>((resolve) => (loggingIn = resolve));
  const chat: string[] = [];
  const server = await serve((socket, line) => {
    const decoded = decodeClientFrame(line);
    if (!decoded.ok) return;
    if (decoded.frame.type === 'login') loggingIn(socket);
    else if (decoded.frame.type === 'chat') chat.push(decoded.frame.text);
  });
  const input = new PassThrough();
  const paused = once(input, 'pause');
  const client = runClient({
    host: '127.0.0.1',
    port: server.port,
    trust: pinTo(dir, server.certificate.fingerprint),
    username: 'alice',
    passwordStdin: true,
    input,
    output: new PassThrough(),
    errorOutput: new PassThrough(),
    terminal: false,
    serverBudget: { capacity: LINES, refillMs: 1 },
  });
  try {
    input.write('alice-password\n');
    for (let i = 0; i < LINES; i++) input.write(`line ${i}\n`);
    const socket = await loginSeen;
    await paused; // the server has not answered: the client stopped reading
    socket.write(welcome);
    input.end();
    await client;
    expect(chat).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i}`));
  } finally {
    await client.catch(() => {});
  }
});
