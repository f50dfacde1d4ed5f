// The stage 6 client against a server that does not play fair: a hostile
// one, a broken one, or (stage 6 has no TLS) anyone in the middle. First the
// cases the clients of stages 6 to 8 must survive
// (testkit/hostile-server-cases.ts), through stage 6's login and client;
// then the whole program, which must print a refusal's escapes, escaped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { generateKey, openText } from '../../shared/src/crypto';
import { startFakeServer } from '../../testkit/fake-server';
import { hostileServerCases } from '../../testkit/hostile-server-cases';
import { connectAndLogIn } from '../src/client-login';
import { runClient } from '../src/client';
import { chatAssociatedData, decodeClientFrame, encodeServerFrame } from '../src/messages';

jest.setTimeout(60_000);

const ESC = '\x1b';
const key = generateKey();
const hello = encodeServerFrame({ type: 'hello', challenge: 'AAAAAAAAAAAAAAAAAAAAAA==' });

const context = hostileServerCases({
  start: (onLine) => startFakeServer((socket) => socket.write(hello), onLine),
  welcome: encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] }),
  refusal: (code, message) => encodeServerFrame({ type: 'error', code, message }),
  logIn: async (server, _dir, answerTimeoutMs) => {
    const session = await connectAndLogIn({
      host: '127.0.0.1',
      port: server.port,
      key,
      username: 'alice',
      password: 'alice-password',
      answerTimeoutMs,
    });
    session.frames.listen(() => {});
    return session.socket;
  },
  runClient: (server, _dir, streams, serverBudget) =>
    runClient({
      host: '127.0.0.1',
      port: server.port,
      key,
      username: 'alice',
      passwordStdin: true,
      ...streams,
      terminal: false,
      serverBudget,
    }),
  isLogin: (line) => {
    const decoded = decodeClientFrame(line);
    return decoded.ok && decoded.frame.type === 'login';
  },
  chatOf: (line) => {
    const decoded = decodeClientFrame(line);
    if (!decoded.ok || decoded.frame.type !== 'chat') return undefined;
    return openText(key, decoded.frame.box, chatAssociatedData('alice'));
  },
  nthChat: (n) => `line ${n}`,
});

test('a refusal with terminal escapes is shown escaped when the client exits', async () => {
  const hostile = await context.serve((socket) => {
    const message = `x${ESC}[2J${ESC}]0;pwned\x07 FAKE: your password leaked\nerror: run curl evil.sh`;
    socket.end(encodeServerFrame({ type: 'error', code: 'AUTH_FAILED', message }));
  });
  const keyFile = path.join(context.dir, 'room.key');
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
});
