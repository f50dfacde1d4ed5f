// The stage 7 client against a server that does not play fair: the cases
// the clients of stages 6 to 8 must survive (testkit/hostile-server-cases.ts),
// run through stage 7's login and client.
import { startFakeTlsServer } from '../../testkit/fake-server';
import { hostileServerCases } from '../../testkit/hostile-server-cases';
import { connectAndLogIn } from '../src/client-login';
import { runClient } from '../src/client';
import { ALPN_PROTOCOL, decodeClientFrame, encodeServerFrame } from '../src/messages';
import { pinTo } from './harness';

jest.setTimeout(60_000);

hostileServerCases({
  start: (onLine) => startFakeTlsServer(ALPN_PROTOCOL, onLine),
  welcome: encodeServerFrame({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] }),
  refusal: (code, message) => encodeServerFrame({ type: 'error', code, message }),
  logIn: async (server, dir, answerTimeoutMs) => {
    const session = await connectAndLogIn({
      host: '127.0.0.1',
      port: server.port,
      trust: pinTo(dir, server.certificate.fingerprint),
      username: 'alice',
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
      trust: pinTo(dir, server.certificate.fingerprint),
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
    return decoded.ok && decoded.frame.type === 'chat' ? decoded.frame.text : undefined;
  },
  nthChat: (n) => `line ${n}`,
});
