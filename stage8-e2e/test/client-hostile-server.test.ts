// The stage 8 client against a server that does not play fair: the cases
// the clients of stages 6 to 8 must survive (testkit/hostile-server-cases.ts),
// run through stage 8's login (with key bundles) and client; then stage 8's
// own hint for a NAME_TAKEN.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { encodeKeyBundle, generateIdentity } from '../../shared/src/identity-keys';
import { KnownServers } from '../../shared/src/known-servers';
import { startFakeTlsServer, type FakeTlsServer } from '../../testkit/fake-server';
import { hostileServerCases } from '../../testkit/hostile-server-cases';
import { runClient } from '../src/client';
import { connectAndLogIn } from '../src/client-login';
import { ALPN_PROTOCOL, decodeClientFrame, encodeServerFrame } from '../src/messages';

jest.setTimeout(60_000);

const trust = (server: FakeTlsServer, dir: string) => ({
  knownServers: new KnownServers(path.join(dir, 'known_servers')),
  expectedFingerprint: server.certificate.fingerprint,
});

const context = hostileServerCases({
  start: (onLine) => startFakeTlsServer(ALPN_PROTOCOL, onLine),
  welcome: encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] }),
  refusal: (code, message) => encodeServerFrame({ type: 'error', code, message }),
  logIn: async (server, dir, answerTimeoutMs) => {
    const session = await connectAndLogIn({
      host: '127.0.0.1',
      port: server.port,
      trust: trust(server, dir),
      username: 'alice',
      keys: encodeKeyBundle(generateIdentity('alice')),
      password: () => Promise.resolve('alice-password'),
      answerTimeoutMs,
    });
    session.frames.listen(() => {});
    return session.socket;
  },
  runClient: (server, dir, streams, serverBudget) =>
    runClient({
      host: '127.0.0.1',
      port: server.port,
      trust: trust(server, dir),
      username: 'alice',
      register: true,
      keyFile: path.join(dir, 'alice.identity'),
      scryptCost: { logN: 14, r: 8, p: 1 }, // the floor: a test needs no strong file
      passwordStdin: true,
      ...streams,
      terminal: false,
      serverBudget,
    }),
  isLogin: (line) => {
    const decoded = decodeClientFrame(line);
    return decoded.ok && decoded.frame.type === 'register';
  },
  // The text is sealed: a message is known by its counter, 0, 1, 2, …
  chatOf: (line) => {
    const decoded = decodeClientFrame(line);
    return decoded.ok && decoded.frame.type === 'e2e-chat'
      ? String(decoded.frame.counter)
      : undefined;
  },
  nthChat: (n) => String(n),
});

test('--register refused with NAME_TAKEN says to use --new-keys (a login needs keys the account lacks)', async () => {
  const server = await context.serve((socket) => {
    const message = 'the username "alice" is already registered';
    socket.end(encodeServerFrame({ type: 'error', code: 'NAME_TAKEN', message }));
  });
  const input = new PassThrough();
  input.end('alice-password\n');
  const keyFile = path.join(context.dir, 'alice.identity');
  const refused = await runClient({
    host: '127.0.0.1',
    port: server.port,
    trust: trust(server, context.dir),
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
