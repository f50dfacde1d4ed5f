import { once } from 'node:events';
import type net from 'node:net';
import { connect, LineReader } from '../../shared/test/helpers';
import { startHarness, type Harness } from './harness';

let h: Harness | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await h?.server.close();
  h = undefined;
});

/** Connects a raw socket and wraps it in a LineReader. */
async function client(port: number) {
  const socket = await connect(port);
  sockets.push(socket);
  const lines = new LineReader(socket);
  return { socket, lines, name: `127.0.0.1:${socket.localPort}` };
}

describe('stage 2 server', () => {
  test('a round trip: welcome, line, reply', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    expect(await a.lines.next()).toBe(
      `* you are ${a.name}; send one line, then wait for the reply`,
    );
    a.socket.write('hello\n');
    const call = await h.replies.next();
    expect(call.text).toBe('hello');
    expect(call.context.from).toBe(a.name);
    call.answer('hi there');
    expect(await a.lines.next()).toBe(`127.0.0.1:${h.server.port}: hi there`);
    expect(h.log.events.map((e) => e.type)).toEqual(['connected', 'serving', 'line', 'replied']);
  });

  test('byte-at-a-time and coalesced lines still give one turn per line, in order', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next(); // welcome
    // Three lines in one write (coalesced), then a fourth a byte at a time.
    a.socket.write('one\ntwo\nthree\n');
    for (const byte of Buffer.from('four\r\n')) a.socket.write(Uint8Array.of(byte));

    for (const expected of ['one', 'two', 'three', 'four']) {
      const call = await h.replies.next();
      expect(call.text).toBe(expected);
      // The next line is not even read as a turn until this one is answered.
      expect(h.replies.calls).toHaveLength(h.replies.calls.indexOf(call) + 1);
      call.answer(expected.toUpperCase());
      expect(await a.lines.next()).toBe(`127.0.0.1:${h.server.port}: ${expected.toUpperCase()}`);
    }
    expect(h.replies.maxOpen).toBe(1);
  });

  test('UTF-8 with emoji round-trips, even with a character split across writes', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next();
    const text = 'héllo 👋🏽 世界';
    const bytes = Buffer.from(text + '\n', 'utf8');
    const cut = bytes.indexOf(0xf0) + 2; // in the middle of the 4-byte 👋
    a.socket.write(bytes.subarray(0, cut));
    a.socket.write(bytes.subarray(cut));
    const call = await h.replies.next();
    expect(call.text).toBe(text);
    call.answer(`${text} ✓`);
    expect(await a.lines.next()).toBe(`127.0.0.1:${h.server.port}: ${text} ✓`);
  });

  test('an oversized line gets FRAME_TOO_LARGE and a disconnect; the next client is fine', async () => {
    h = await startHarness({ maxFrameBytes: 100 });
    const a = await client(h.server.port);
    const b = await client(h.server.port); // waits in line behind a
    await a.lines.next();
    a.socket.write('x'.repeat(101) + '\n');
    expect(await a.lines.next()).toMatch(/^! FRAME_TOO_LARGE: line longer than 100 bytes/);
    await a.lines.ended; // the server hung up
    expect(h.replies.calls).toHaveLength(0); // the line was never handed out, not even truncated
    await h.log.waitFor((e) => e.type === 'refused' && e.code === 'FRAME_TOO_LARGE');

    expect(await b.lines.next()).toMatch(/^\* you are/);
    b.socket.write('x'.repeat(100) + '\n'); // exactly the limit is fine
    const call = await h.replies.next();
    expect(call.text).toHaveLength(100);
  });

  test('invalid UTF-8 gets BAD_UTF8, and the client keeps its turn', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next();
    a.socket.write(Buffer.from([0x68, 0xff, 0x69, 0x0a]));
    expect(await a.lines.next()).toMatch(/^! BAD_UTF8: /);
    a.socket.write('\n\nfine\n'); // empty lines are not messages
    const call = await h.replies.next();
    expect(call.text).toBe('fine');
  });

  test('a second client is not served until the first disconnects', async () => {
    h = await startHarness();
    const order: string[] = [];
    const a = await client(h.server.port);
    await a.lines.next();
    const b = await client(h.server.port);
    b.socket.write('me too\n'); // sent at once, but nobody reads it yet
    await h.log.waitFor((e) => e.type === 'connected' && e.peer === b.name);
    expect(h.log.events.at(-1)).toEqual({ type: 'connected', peer: b.name, ahead: 1 });

    a.socket.write('first\n');
    const first = await h.replies.next();
    expect(first.text).toBe('first');
    first.answer('ok a');
    expect(await a.lines.next()).toMatch(/: ok a$/);
    expect(b.lines.lines).toEqual([]); // b has not even been welcomed

    expect(h.replies.calls.map((c) => c.text)).toEqual(['first']); // 'me too' not handed out

    order.push('a disconnects');
    a.socket.end();
    expect(await b.lines.next()).toMatch(/^\* you are/);
    order.push('b welcomed');
    const second = await h.replies.next();
    expect(second.text).toBe('me too');
    second.answer('ok b');
    expect(await b.lines.next()).toMatch(/: ok b$/);
    order.push('b replied');
    expect(order).toEqual(['a disconnects', 'b welcomed', 'b replied']);
    // The server's own account: it saw a leave before it started serving b.
    const types = h.log.events.map((e) => `${e.type} ${e.peer}`);
    expect(types.indexOf(`left ${a.name}`)).toBeGreaterThan(-1);
    expect(types.indexOf(`left ${a.name}`)).toBeLessThan(types.indexOf(`serving ${b.name}`));
  });

  test('a client that leaves while the operator types aborts the pending reply', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next();
    a.socket.write('bye\n');
    const call = await h.replies.next();
    a.socket.end();
    await once(call.context.signal, 'abort');
    expect(call.context.signal.reason).toBe('left');
    await h.log.waitFor((e) => e.type === 'left');
  });

  test('close() tells every client, served or waiting, and stops listening', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next();
    const b = await client(h.server.port);
    await h.log.waitFor((e) => e.type === 'connected' && e.peer === b.name);
    a.socket.write('pending\n');
    const call = await h.replies.next();
    await h.server.close();
    expect(call.context.signal.reason).toBe('shutdown');
    for (const c of [a, b]) {
      expect(await c.lines.waitFor(/^! /)).toBe('! SHUTTING_DOWN: the server is shutting down');
      await c.lines.ended;
    }
    await expect(connect(h.server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('a reply source that runs dry (null) shuts the server down', async () => {
    h = await startHarness();
    const a = await client(h.server.port);
    await a.lines.next();
    a.socket.write('anyone there?\n');
    (await h.replies.next()).answer(null);
    expect(await a.lines.next()).toBe('! SHUTTING_DOWN: the server is shutting down');
    await h.server.closed;
  });

  test('long conversations and many clients leave no abort listeners behind', async () => {
    // A leak would pile 'abort' listeners up on the server's shutdown signal,
    // one per turn or per client: count them per target, added minus removed.
    const add = jest.spyOn(EventTarget.prototype, 'addEventListener');
    const remove = jest.spyOn(EventTarget.prototype, 'removeEventListener');
    try {
      h = await startHarness();
      for (let c = 0; c < 12; c++) {
        const a = await client(h.server.port);
        await a.lines.next();
        for (let turn = 0; turn < 12; turn++) {
          a.socket.write(`line ${turn}\n`);
          (await h.replies.next()).answer('ok');
          await a.lines.next();
        }
        a.socket.end();
        await h.log.waitFor((e) => e.type === 'left' && e.peer === a.name);
      }
      const net = new Map<unknown, number>();
      const tally = (spy: typeof add, delta: number) =>
        spy.mock.calls.forEach(([type], i) => {
          const target = spy.mock.contexts[i];
          if (type === 'abort') net.set(target, (net.get(target) ?? 0) + delta);
        });
      tally(add, 1);
      tally(remove, -1);
      expect(Math.max(0, ...net.values())).toBeLessThanOrEqual(1);
    } finally {
      add.mockRestore();
      remove.mockRestore();
    }
  });

  test('when the waiting line is full, a newcomer is turned away politely', async () => {
    h = await startHarness({ maxWaiting: 1 });
    const a = await client(h.server.port);
    await a.lines.next();
    const b = await client(h.server.port);
    await h.log.waitFor((e) => e.type === 'connected' && e.peer === b.name);
    const c = await client(h.server.port);
    expect(await c.lines.next()).toBe('* server busy, try again later');
    await c.lines.ended;
    expect(h.log.events).toContainEqual({ type: 'turned-away', peer: c.name });
  });
});
