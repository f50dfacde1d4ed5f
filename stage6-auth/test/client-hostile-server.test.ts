// The client against a server that does not play fair: a hostile one, a
// broken one, or (stage 6 has no TLS) anyone in the middle. Each case was
// reproduced against the client before its fix:
// - a refusal whose text holds terminal escapes reached the terminal raw at
//   exit (the chat's own lines were already made harmless);
// - a server that pings and never reads grew the client's memory without
//   end, one pong per ping (gigabytes in seconds);
// - a server that took the credentials and said nothing kept the client
//   waiting for ever, while every line piped into it was kept in memory.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { generateKey } from '../../shared/src/crypto';
import { connectAndLogIn } from '../src/client-login';
import { runClient } from '../src/client';
import { decodeClientFrame, encodeServerFrame } from '../src/messages';

jest.setTimeout(60_000);

const ESC = '\x1b';

/** A fake stage 6 server: says hello, then `onLine` for each line it reads. */
async function fakeServer(onLine: (socket: net.Socket, line: string) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(encodeServerFrame({ type: 'hello', challenge: 'AAAAAAAAAAAAAAAAAAAAAA==' }));
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) onLine(socket, line);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const welcome = encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] });

test('a refusal with terminal escapes is shown escaped when the client exits', async () => {
  const hostile = await fakeServer((socket) => {
    const message = `x${ESC}[2J${ESC}]0;pwned\x07 FAKE: your password leaked\nerror: run curl evil.sh`;
    socket.end(encodeServerFrame({ type: 'error', code: 'AUTH_FAILED', message }));
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage6-hostile-'));
  try {
    const keyFile = path.join(dir, 'room.key');
    fs.writeFileSync(keyFile, Buffer.from(generateKey()).toString('base64') + '\n', {
      mode: 0o600,
    });
    const client = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'stage6-auth/bin/client.ts'].concat(
        ['--port', String(hostile.port), '--user', 'alice', '--password-stdin'],
        ['--key-file', keyFile],
      ),
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    client.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    client.stdin.end('alice-password\n');
    const [code] = (await once(client, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain('[AUTH_FAILED]');
    expect(stderr).toContain('x\\x1b[2J\\x1b]0;pwned\\x07 FAKE');
    expect(stderr).not.toContain(ESC);
    // The server's line break is shown, not obeyed: no line of ours is faked.
    expect(stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(1);
  } finally {
    await hostile.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a server that pings and never reads: pongs do not pile up in the client', async () => {
  const PINGS_BYTES = 16 * 1024 * 1024;
  const ping = Buffer.from('{"type":"ping"}\n'.repeat(4096));
  const flooder = await fakeServer((socket) => {
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
  try {
    const session = await connectAndLogIn({
      host: '127.0.0.1',
      port: flooder.port,
      key: generateKey(),
      username: 'alice',
      password: 'alice-password',
    });
    session.frames.listen(() => {});
    let mostQueued = 0;
    await new Promise<void>((resolve) => {
      session.socket.on('data', () => {
        mostQueued = Math.max(mostQueued, session.socket.writableLength);
        if (session.socket.bytesRead >= PINGS_BYTES) resolve();
      });
    });
    // A million pings read; at most one pong waits (before: megabytes).
    expect(mostQueued).toBeLessThanOrEqual(64);
    session.socket.destroy();
  } finally {
    await flooder.close();
  }
});

test('a server that takes the login and says nothing: LOGIN_TIMEOUT, not a wait for ever', async () => {
  const silent = await fakeServer(() => {});
  try {
    await expect(
      connectAndLogIn({
        host: '127.0.0.1',
        port: silent.port,
        key: generateKey(),
        username: 'alice',
        password: 'alice-password',
        answerTimeoutMs: 200,
      }),
    ).rejects.toMatchObject({
      code: 'LOGIN_TIMEOUT',
      message: `no answer to the login from 127.0.0.1:${silent.port} within 0.2 s`,
    });
  } finally {
    await silent.close();
  }
});

test('lines piped in while the login waits: reading pauses at the limit, and none is lost', async () => {
  const LINES = 2500;
  const key = generateKey();
  let loggingIn!: (socket: net.Socket) => void;
  const loginSeen = new Promise<net.Socket>((resolve) => (loggingIn = resolve));
  const chat: string[] = [];
  const server = await fakeServer((socket, line) => {
    const decoded = decodeClientFrame(line);
    if (!decoded.ok) return;
    if (decoded.frame.type === 'login') loggingIn(socket);
    else if (decoded.frame.type === 'chat') chat.push(decoded.frame.box);
  });
  const input = new PassThrough();
  const paused = once(input, 'pause');
  const client = runClient({
    host: '127.0.0.1',
    port: server.port,
    key,
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
    expect(chat).toHaveLength(LINES);
  } finally {
    await server.close();
    await client.catch(() => {});
  }
});
