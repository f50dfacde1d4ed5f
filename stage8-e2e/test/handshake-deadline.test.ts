// A TLS handshake that stalls is closed at its deadline on a real stage 8
// server, and the place it held under the connection caps is free again
// (Node leaves a timed-out handshake's socket open; see closeFailedHandshakes
// in shared/src/tls-server.ts and the stage 7 appendix).
import { once } from 'node:events';
import net from 'node:net';
import { join, startTestServer, type TestServer } from './harness';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('a handshake that stalls is closed at its deadline, and its place under the caps is freed', async () => {
  t = await startTestServer(undefined, {
    server: { handshakeTimeoutMs: 200, maxPreLoginPerAddress: 1 },
  });
  const stalled = net.connect({ host: '127.0.0.1', port: t.port });
  stalled.on('error', () => {});
  stalled.write(Buffer.from([0x16])); // a handshake record's first byte, and nothing more
  await once(stalled, 'close'); // closed by the server (the test would hang otherwise)
  await t.waitForLog((r) => r.event === 'handshake_refused' && r.code === 'TLS_HANDSHAKE');
  const alice = await join(t, 'alice'); // the address's one place is free again
  await alice.leave();
});
