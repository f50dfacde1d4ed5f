import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { connect, LineReader } from '../../shared/test/helpers';
import { startServer, type Stage1Server } from '../src/server';

let server: Stage1Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Resolves with the error a connection attempt fails with (it must fail). */
function refused(port: number): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('connected, but the server should have stopped listening'));
    });
    socket.once('error', resolve);
  });
}

/**
 * Connects to `port` and resets the connection at once, from a child process.
 * spawnSync blocks this process's event loop meanwhile, so the kernel completes
 * the handshake and receives the reset before the server can accept: the
 * server meets a connection whose peer is already gone.
 */
function connectAndResetBeforeAccept(port: number): void {
  const script = `const s = require('node:net').connect(${port}, '127.0.0.1', () => s.resetAndDestroy());
s.on('error', () => {});`;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: 30_000 });
  expect(result.status).toBe(0);
}

describe('stage 1 server', () => {
  test('reports both ends exactly as the client socket sees them', async () => {
    server = await startServer({ port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('127.0.0.1');
    const socket = await connect(server.port);
    const info = await server.firstConnection;
    // The client's view of the connection is the server's view, mirrored.
    expect(info).toEqual({
      client: { address: socket.localAddress, port: socket.localPort, family: 'IPv4' },
      server: { address: socket.remoteAddress, port: socket.remotePort, family: 'IPv4' },
    });
    expect(info?.server.port).toBe(server.port);
    // The client's port is an ephemeral one the OS chose, not the server's.
    expect(info?.client.port).not.toBe(server.port);
    socket.destroy();
  });

  test('says goodbye, closes the connection, and stops listening', async () => {
    server = await startServer({ port: 0 });
    const socket = await connect(server.port);
    const reader = new LineReader(socket);
    const goodbye = await reader.next();
    expect(goodbye).toContain(`hello 127.0.0.1:${socket.localPort}`);
    expect(goodbye).toContain(`you reached 127.0.0.1:${server.port}`);
    expect(goodbye).toMatch(/closing yours now/);
    // The server ended its side (a FIN, not a reset): the reader sees 'end'.
    await reader.ended;
    await server.closed;
    const err = await refused(server.port);
    expect(err.code).toBe('ECONNREFUSED');
  });

  test('a client that never closes its side is cut off after the grace period', async () => {
    server = await startServer({ port: 0, closeGraceMs: 50 });
    // allowHalfOpen: this client keeps its side open after the server's FIN.
    const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    socket.resume();
    await once(socket, 'end');
    expect(socket.writable).toBe(true); // our side is still open...
    await server.closed; // ...yet the server finishes: it gave up waiting for us
    socket.destroy();
  });

  test('close() before anyone connects resolves firstConnection with null', async () => {
    server = await startServer({ port: 0 });
    const { port } = server;
    await server.close();
    await expect(server.firstConnection).resolves.toBeNull();
    expect((await refused(port)).code).toBe('ECONNREFUSED');
  });

  test('a port already in use is a LISTEN_FAILED error, not a crash', async () => {
    server = await startServer({ port: 0 });
    await expect(startServer({ port: server.port })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: expect.stringContaining('already in use'),
    });
  });

  test('a client that resets before it is accepted does not crash the server', async () => {
    server = await startServer({ port: 0 });
    connectAndResetBeforeAccept(server.port);
    // That connection was gone before the server could learn who made it, so it
    // is not the server's one conversation: the next client still gets served.
    const socket = await connect(server.port);
    const reader = new LineReader(socket);
    expect(await reader.next()).toContain(`hello 127.0.0.1:${socket.localPort}`);
    const info = await server.firstConnection;
    expect(info?.client.port).toBe(socket.localPort);
    await reader.ended;
    await server.closed;
  });

  test('on an IPv6 wildcard socket an IPv4 client shows up IPv4-mapped', async () => {
    // Skipped in effect on machines without IPv6: listening on '::' then fails.
    server = await startServer({ host: '::', port: 0 }).catch(() => undefined);
    if (server === undefined) return;
    const socket = await connect(server.port, '127.0.0.1');
    const info = await server.firstConnection;
    expect(info?.client.address).toBe('::ffff:127.0.0.1');
    expect(info?.client.family).toBe('IPv6');
    socket.destroy();
  });
});
