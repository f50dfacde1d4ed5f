import { once } from 'node:events';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { LineReader } from '../../shared/test/helpers';
import { startClient, type Stage2Client } from '../src/client';
import { startHarness, type Harness } from './harness';

let h: Harness | undefined;
let client: Stage2Client | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await h?.server.close();
  h = undefined;
});

/** Streams for a client: `input` to type into, readers for what it prints. */
function streams() {
  const input = new PassThrough();
  const output = new PassThrough();
  const log = new PassThrough();
  return { input, output, log, replies: new LineReader(output), notes: new LineReader(log) };
}

describe('stage 2 client against the stage 2 server', () => {
  test('script mode: sends each line in turn, prints replies, leaves when input ends', async () => {
    h = await startHarness();
    const io = streams();
    client = await startClient({ port: h.server.port, ...io });
    expect(client.remote).toBe(`127.0.0.1:${h.server.port}`);
    io.input.end('hello\n\nwhat is 2+2?\n'); // all at once; the empty line is skipped
    const first = await h.replies.next();
    expect(first.text).toBe('hello');
    first.answer('hi 👋');
    expect(await io.replies.next()).toBe(`127.0.0.1:${h.server.port}: hi 👋`);
    const second = await h.replies.next();
    expect(second.text).toBe('what is 2+2?');
    second.answer('4');
    expect(await io.replies.next()).toBe(`127.0.0.1:${h.server.port}: 4`);
    await expect(client.done).resolves.toBe('input-ended');
    await h.log.waitFor((e) => e.type === 'left' && e.peer === client!.local);
    expect(await io.notes.waitFor(/^\* /)).toMatch(`* you are ${client.local}`);
  });

  test('when the server shuts down, the client prints why and ends', async () => {
    h = await startHarness();
    const io = streams();
    client = await startClient({ port: h.server.port, ...io });
    io.input.write('are you there?\n');
    await h.replies.next();
    await h.server.close();
    expect(await io.notes.waitFor(/^! /)).toBe('! SHUTTING_DOWN: the server is shutting down');
    await expect(client.done).resolves.toBe('server-closed');
  });

  test('a line over the limit is refused locally and the turn stays with the user', async () => {
    h = await startHarness();
    const io = streams();
    client = await startClient({ port: h.server.port, ...io, maxFrameBytes: 10 });
    io.input.write('this line is too long\nshort\n');
    expect(await io.notes.waitFor(/not sent/)).toMatch(/over 10 bytes/);
    expect((await h.replies.next()).text).toBe('short');
  });

  test('a refused connection is a CONNECT_FAILED error', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as net.AddressInfo;
    probe.close();
    await once(probe, 'close');
    await expect(
      startClient({ port, input: new PassThrough(), output: new PassThrough() }),
    ).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });
});

describe('stage 2 client against a hand-written server', () => {
  // A raw server lets the test see exactly which bytes the client sends, and when.
  async function rawServer() {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    return { server, port: (server.address() as net.AddressInfo).port, accepted };
  }

  test('script mode never sends the next line before the reply arrives', async () => {
    const raw = await rawServer();
    try {
      const io = streams();
      client = await startClient({ port: raw.port, ...io });
      const [socket] = await raw.accepted;
      const received: string[] = []; // each line, with how many replies we had sent
      let repliesSent = 0;
      const lines = new LineReader(socket);
      io.input.end('a\nb\nc\n'); // the client has all three lines at once
      for (const expected of ['a', 'b', 'c']) {
        const line = await lines.next();
        received.push(`${line}@${repliesSent}`);
        expect(line).toBe(expected);
        // Make the client process something before replying: if it were going
        // to send the next line early, it would have done so by now.
        socket.write('* hold on\n');
        await io.notes.waitFor('* hold on');
        expect(lines.lines).toHaveLength(received.length);
        socket.write(`server: re ${line}\n`);
        repliesSent++;
      }
      expect(received).toEqual(['a@0', 'b@1', 'c@2']);
      expect(await io.replies.next()).toBe('server: re a');
      await expect(client.done).resolves.toBe('input-ended');
    } finally {
      raw.server.close();
    }
  });

  test('prompt mode: a line typed while waiting is not sent; control codes are escaped', async () => {
    const raw = await rawServer();
    try {
      const io = streams();
      client = await startClient({ port: raw.port, ...io, interactive: true });
      const [socket] = await raw.accepted;
      const lines = new LineReader(socket);
      io.input.write('first\n');
      expect(await lines.next()).toBe('first');
      io.input.write('impatient\n');
      await io.notes.waitFor(/not your turn/);
      socket.write('server: ok \x1b[2Jdone\n');
      expect(await io.replies.next()).toBe('server: ok \\x1b[2Jdone');
      io.input.write('second\n');
      expect(await lines.next()).toBe('second'); // 'impatient' was never sent
      socket.end();
      await expect(client.done).resolves.toBe('server-closed');
    } finally {
      raw.server.close();
    }
  });
});
