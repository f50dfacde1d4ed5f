// The smallest version of stage 4 (minimal/server.ts), run as a user runs it,
// with raw sockets standing in for `nc`.
import type net from 'node:net';
import { connect, LineReader, listeningPort, runScript } from '../../shared/test/helpers';

test('npm run stage4:minimal relays every line to everyone else, with the sender label', async () => {
  const proc = runScript('stage4:minimal', ['--port', '0']);
  const sockets: net.Socket[] = [];
  try {
    const port = await listeningPort(proc);
    const join = async () => {
      const socket = await connect(port);
      sockets.push(socket);
      const reader = new LineReader(socket);
      const label = `127.0.0.1:${socket.localPort}`;
      expect(await reader.next()).toMatch(
        new RegExp(`^\\* welcome, you are ${label} \\(\\d online\\)$`),
      );
      return { socket, reader, label };
    };
    const ana = await join();
    const bo = await join();
    expect(await ana.reader.next()).toBe(`* ${bo.label} joined (2 online)`);
    const cy = await join();
    await ana.reader.waitFor(`${cy.label} joined`);
    await bo.reader.waitFor(`${cy.label} joined`);

    ana.socket.write('hello, room\nsecond line\n');
    for (const other of [bo, cy]) {
      expect(await other.reader.next()).toBe(`${ana.label}: hello, room`);
      expect(await other.reader.next()).toBe(`${ana.label}: second line`);
    }
    cy.socket.end();
    expect(await ana.reader.next()).toBe(`* ${cy.label} left (2 online)`);
    bo.socket.write('bye\n');
    // The sender never gets its own line back: the next thing Ana sees is Bo's.
    expect(await ana.reader.next()).toBe(`${bo.label}: bye`);
    expect(bo.reader.lines).not.toContain(`${bo.label}: bye`);

    // A reset (RST) is an ordinary way to leave: twenty of them, and the room goes on.
    for (let i = 0; i < 20; i++) (await connect(port)).resetAndDestroy();
    bo.socket.write('still here\n');
    expect(await ana.reader.waitFor(': still here')).toBe(`${bo.label}: still here`);
  } finally {
    for (const socket of sockets) socket.destroy();
    proc.kill();
    await proc.exit;
  }
});
