import net from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { LineReader } from '../../shared/test/helpers';
import { runClient } from '../src/client';
import { startServer, type ChatServer } from '../src/server';
import { joinRoom, readUntil, type Peer } from './chat-peer';

let server: ChatServer;
let peer: Peer;

beforeEach(async () => {
  server = await startServer({ port: 0 });
  peer = await joinRoom(server.port); // a raw client that talks to ours
});

afterEach(async () => {
  peer.socket.destroy();
  await server.close();
});

/** runClient on in-memory streams, as a script would drive it (stdin not a terminal). */
function startClient(terminal = false) {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  const exit = runClient({
    host: '127.0.0.1',
    port: server.port,
    input,
    output,
    errorOutput,
    terminal,
  });
  return { input, out: new LineReader(output), err: new LineReader(errorOutput), exit };
}

test('sends each input line; prints chat on output and notices on the error output', async () => {
  const client = startClient();
  const welcome = await client.err.next();
  const label = /you are (\S+) /.exec(welcome)![1]!;
  await peer.lines.waitFor(`* ${label} joined`);
  client.input.write('hello from the client\n\n');
  expect(await peer.lines.next()).toBe(`${label}: hello from the client`);
  peer.say('hello back');
  expect(await client.out.next()).toBe(`${peer.label}: hello back`);
  client.input.end();
  expect(await client.exit).toBe(0);
});

test('received text is sanitized before it is printed', async () => {
  const client = startClient();
  await peer.lines.waitFor('joined');
  peer.say('\x1b[2J\x1b]0;owned\x07 \u202eevil');
  expect(await client.out.next()).toBe(`${peer.label}: \\x1b[2J\\x1b]0;owned\\x07 \\u202eevil`);
  client.input.end();
  await client.exit;
});

test('when stdin ends, every line already typed is delivered before the client exits', async () => {
  const client = startClient();
  const label = /you are (\S+) /.exec(await client.err.next())![1]!;
  await peer.lines.waitFor(`* ${label} joined`);
  const texts = Array.from({ length: 300 }, (_, i) => `line ${i}`);
  client.input.end(texts.join('\n') + '\n');
  expect(await client.exit).toBe(0);
  await readUntil(peer, (lines) => lines.includes(`* ${label} left (1 online)`));
  const received = peer.lines.lines.filter((l) => l.startsWith(`${label}: `));
  expect(received).toEqual(texts.map((t) => `${label}: ${t}`));
});

test('a line over the frame limit is refused locally, and the client stays connected', async () => {
  const client = startClient();
  const label = /you are (\S+) /.exec(await client.err.next())![1]!;
  client.input.write('x'.repeat(5000) + '\nsmall\n');
  expect(await client.err.next()).toBe('not sent: line longer than 4096 bytes');
  expect(await peer.lines.waitFor(`${label}: `)).toBe(`${label}: small`);
  client.input.end();
  await client.exit;
});

test('when the server shuts down, the client says so and exits 0', async () => {
  const client = startClient();
  await client.err.next(); // welcome
  const closing = server.close();
  await client.err.waitFor('* server shutting down');
  expect(await client.err.next()).toBe('server closed the connection');
  expect(await client.exit).toBe(0);
  await closing;
});

test('in prompt mode, Enter sends the line and Ctrl-C leaves', async () => {
  const client = startClient(true);
  await peer.lines.waitFor('joined');
  client.input.write('typed at a prompt\r');
  expect(await peer.lines.waitFor('typed')).toMatch(/: typed at a prompt$/);
  client.input.write('\x03');
  expect(await client.exit).toBe(0);
});

test('a refused connection is a CONNECT_FAILED error', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve)); // now nothing listens there
  await expect(
    runClient({ host: '127.0.0.1', port, input: new PassThrough() }),
  ).rejects.toMatchObject({
    code: 'CONNECT_FAILED',
    message: `cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)`,
  });
});
