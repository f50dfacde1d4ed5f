// The door of a real stage 8 server (shared/src/tls-door.ts): a handshake
// that stalls is closed at its deadline and the place it held under the
// connection caps is free again (Node leaves a timed-out handshake's socket
// open; see the stage 7 appendix), and an address opening connections faster
// than its pace is dropped before the handshake.
import { once } from 'node:events';
import net from 'node:net';
import { handshakeOnce } from '../../shared/test/tls-fixtures';
import { ALPN_PROTOCOL } from '../src/messages';
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

test('an address looping connect, handshake, close is dropped before its handshake once past its pace', async () => {
  t = await startTestServer(undefined, {
    server: { newConnectionsPerAddress: { capacity: 5, refillMs: 3_600_000 } },
  });
  const finished: boolean[] = [];
  for (let i = 0; i < 8; i++) finished.push(await handshakeOnce(t.port, ALPN_PROTOCOL));
  expect(finished).toEqual([true, true, true, true, true, false, false, false]);
  await t.waitForLog((r) => r.event === 'refused' && r.why === 'address too fast');
});
