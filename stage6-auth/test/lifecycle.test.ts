// The server's life around the chat: listening (and failing to), naming its
// peers in the logs, and the polite goodbye. Stage 6 uses the same shared
// pieces as every other server (listen, peerLabel, closeServerPolitely).
import { once } from 'node:events';
import net from 'node:net';
import { generateKey } from '../../shared/src/crypto';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { LineReader } from '../../shared/test/helpers';
import { decodeServerFrame } from '../src/messages';
import { startServer } from '../src/server';
import { startTestServer } from './harness';

let store: UserStore;
beforeAll(async () => {
  store = await openUserStore({ sqlitePath: ':memory:' });
});
afterAll(() => store.close());

test('an address that is not this machine: one LISTEN_FAILED sentence naming port 0, not "undefined"', async () => {
  // 192.0.2.1 is reserved for documentation (TEST-NET-1): no machine has it.
  // The port is left out, as a caller who wants any free port may do.
  const failed = startServer({ key: generateKey(), store, host: '192.0.2.1', hashWorkers: 1 });
  await expect(failed).rejects.toMatchObject({
    code: 'LISTEN_FAILED',
    message: 'cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine',
  });
});

test('a port in use: the same sentence as every other server', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as net.AddressInfo;
  try {
    const failed = startServer({ key: generateKey(), store, port, hashWorkers: 1 });
    await expect(failed).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: `cannot listen on 127.0.0.1:${port}: port ${port} is already in use (is another server running?)`,
    });
  } finally {
    taken.close();
  }
});

test('an IPv6 peer is logged with brackets, so its port cannot be read as part of the address', async () => {
  // Machines without IPv6 cannot listen on ::1; the test has nothing to show there.
  const t = await startTestServer({ host: '::1' }).catch(() => undefined);
  if (t === undefined) return;
  try {
    const socket = net.connect({ port: t.port, host: '::1' });
    socket.on('error', () => {});
    await once(socket, 'connect');
    const connected = await t.waitForLog((r) => r.event === 'connect');
    expect(connected.remote).toBe(`[::1]:${socket.localPort}`);
    socket.destroy();
  } finally {
    await t.close();
  }
});

test('close(): every connection gets a bye and a FIN, and close resolves once they are closed', async () => {
  const t = await startTestServer();
  const socket = net.connect({ port: t.port, host: '127.0.0.1' });
  socket.on('error', () => {});
  const lines = new LineReader(socket);
  await lines.next(); // hello
  const closing = t.close();
  const bye = decodeServerFrame(await lines.next());
  expect(bye).toEqual({ ok: true, frame: { type: 'bye', reason: 'server shutting down' } });
  await lines.ended; // a FIN, not a reset; our side closes in reply
  await closing;
  expect(t.countLogs((r) => r.event === 'disconnect')).toBe(1);
});
