// The stage 8 client's login against a server that does not play fair; the
// same three cases as stage 7's test (the login code is that stage's, with
// key bundles), each reproduced before its fix: a refusal's terminal
// escapes reached the error at exit, pongs to a server that never reads
// piled up without end, and a server that said nothing after the login kept
// the client waiting for ever. Last, stage 8's own hint for a NAME_TAKEN.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type tls from 'node:tls';
import { encodeKeyBundle, generateIdentity } from '../../shared/src/identity-keys';
import { KnownServers } from '../../shared/src/known-servers';
import { startFakeTlsServer, type FakeTlsServer } from '../../testkit/fake-tls-server';
import { runClient } from '../src/client';
import { connectAndLogIn } from '../src/client-login';
import { ALPN_PROTOCOL, encodeServerFrame } from '../src/messages';

jest.setTimeout(60_000);

let dir: string;
let fake: FakeTlsServer | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage8-hostile-'));
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
    trust: {
      knownServers: new KnownServers(path.join(dir, 'known_servers')),
      expectedFingerprint: server.certificate.fingerprint,
    },
    username: 'alice',
    keys: encodeKeyBundle(generateIdentity('alice')),
    password: () => Promise.resolve('alice-password'),
    answerTimeoutMs,
  });
}

test("a refusal's terminal escapes are kept out of the client's error", async () => {
  const server = await serve((socket) => {
    const message = 'x\x1b[2J FAKE: your keys leaked\nerror: run this';
    socket.end(encodeServerFrame({ type: 'error', code: 'AUTH_FAILED', message }));
  });
  const refused = await logIn(server).catch((err: Error) => err);
  expect(refused).toMatchObject({
    code: 'AUTH_FAILED',
    message: 'x\\x1b[2J FAKE: your keys leaked\\x0aerror: run this',
  });
});

test('a server that pings and never reads: pongs do not pile up in the client', async () => {
  const PINGS_BYTES = 16 * 1024 * 1024;
  const ping = Buffer.from('{"type":"ping"}\n'.repeat(4096));
  const server = await serve((socket) => {
    socket.write(
      encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] }),
    );
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
  expect(mostQueued).toBeLessThanOrEqual(64); // before: megabytes
  session.socket.destroy();
});

test('a server that takes the login and says nothing: LOGIN_TIMEOUT, not a wait for ever', async () => {
  const server = await serve(() => {});
  await expect(logIn(server, 200)).rejects.toMatchObject({
    code: 'LOGIN_TIMEOUT',
    message: `no answer to the login from 127.0.0.1:${server.port} within 0.2 s`,
  });
});

test('--register refused with NAME_TAKEN says to use --new-keys (a login needs keys the account lacks)', async () => {
  const server = await serve((socket) => {
    const message = 'the username "alice" is already registered';
    socket.end(encodeServerFrame({ type: 'error', code: 'NAME_TAKEN', message }));
  });
  const input = new PassThrough();
  input.end('alice-password\n');
  const keyFile = path.join(dir, 'alice.identity');
  const refused = await runClient({
    host: '127.0.0.1',
    port: server.port,
    trust: {
      knownServers: new KnownServers(path.join(dir, 'known_servers')),
      expectedFingerprint: server.certificate.fingerprint,
    },
    username: 'alice',
    register: true,
    keyFile,
    passwordStdin: true,
    input,
    output: new PassThrough(),
    errorOutput: new PassThrough(),
    terminal: false,
  }).catch((err: Error) => err);
  expect(refused).toMatchObject({
    code: 'NAME_TAKEN',
    message:
      'the username "alice" is already registered; if it is yours (stages 6 to 9 share their accounts), log in with --new-keys instead of --register',
  });
  expect(fs.existsSync(keyFile)).toBe(false);
});
