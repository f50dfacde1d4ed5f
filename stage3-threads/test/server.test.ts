/**
 * The stage 3 server in both modes, over real sockets. The lesson is checked
 * by the ORDER of replies, never by how long they took: in blocking mode a
 * ping sent during a hash is answered after it; in pool mode, before it.
 */
import bcrypt from 'bcryptjs';
import type net from 'node:net';
import { encodeFrame } from '../../shared/src/framing';
import { connect, LineReader } from '../../shared/test/helpers';
import { startServer, type ServerOptions, type Stage3Server } from '../src/server';

const servers: Stage3Server[] = [];
const sockets: net.Socket[] = [];
async function start(options: ServerOptions): Promise<Stage3Server> {
  const server = await startServer({ port: 0, cost: 4, workers: 2, ...options });
  servers.push(server);
  return server;
}
async function client(server: Stage3Server): Promise<{ socket: net.Socket; lines: LineReader }> {
  const socket = await connect(server.port);
  sockets.push(socket);
  return { socket, lines: new LineReader(socket) };
}
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

// Records which reply arrived first. Each reply arrives in its own socket
// 'data' event, and the .then runs right after that event, so `order` is the
// order in which this process received them.
function recordOrder(order: string[], name: string, reply: Promise<string>): Promise<string> {
  return reply.then((line) => {
    order.push(name);
    return line;
  });
}

test('blocking mode: a ping sent while a hash runs is answered only after the hash', async () => {
  const pinger: { socket?: net.Socket } = {};
  // The hook runs on the event loop just before hashSync starts: the ping is
  // on the wire while the hash runs, but nobody can read it until it ends.
  const server = await start({
    mode: 'blocking',
    onHashStart: () => pinger.socket?.write(encodeFrame('ping')),
  });
  const hasher = await client(server);
  const ping = await client(server);
  pinger.socket = ping.socket;

  const order: string[] = [];
  const hash = recordOrder(order, 'hash', hasher.lines.next());
  const pong = recordOrder(order, 'pong', ping.lines.next());
  hasher.socket.write(encodeFrame('hash correct horse'));

  expect(await pong).toBe('pong');
  expect(bcrypt.compareSync('correct horse', await hash)).toBe(true);
  expect(order).toEqual(['hash', 'pong']);
});

test('pool mode: a ping sent while hashes run is answered before them', async () => {
  const pinger: { socket?: net.Socket } = {};
  let started = 0;
  // Cost 12 (hundreds of ms per hash) only makes sure the hashes are still
  // running when the ping arrives; nothing here measures time.
  const server = await start({
    mode: 'pool',
    cost: 12,
    onHashStart: () => {
      if (++started === 2) pinger.socket?.write(encodeFrame('ping'));
    },
  });
  const first = await client(server);
  const second = await client(server);
  const ping = await client(server);
  pinger.socket = ping.socket;

  const order: string[] = [];
  const hashes = [
    recordOrder(order, 'hash', first.lines.next()),
    recordOrder(order, 'hash', second.lines.next()),
  ];
  const pong = recordOrder(order, 'pong', ping.lines.next());
  first.socket.write(encodeFrame('hash one'));
  second.socket.write(encodeFrame('hash two'));

  expect(await pong).toBe('pong');
  const [one, two] = await Promise.all(hashes);
  expect(order).toEqual(['pong', 'hash', 'hash']);
  expect(bcrypt.compareSync('one', one!)).toBe(true);
  expect(bcrypt.compareSync('two', two!)).toBe(true);
});

test.each([
  ['blocking', ['HASH', 'pong']],
  ['pool', ['pong', 'HASH']],
] as const)('%s mode, one connection: "hash" then "ping" are answered %j', async (mode, want) => {
  // Both lines arrive in one read. Blocking mode computes the hash before it
  // even looks at the next line; pool mode hands the hash to a worker, answers
  // the ping in the same callback, and the worker's answer can only come later.
  const server = await start({ mode, cost: 8 });
  const c = await client(server);
  c.socket.write('hash in order\nping\n');
  const replies = [await c.lines.next(), await c.lines.next()];
  expect(replies.map((line) => (line.startsWith('$2b$') ? 'HASH' : line))).toEqual(want);
  expect(
    bcrypt.compareSync(
      'in order',
      replies.find((line) => line.startsWith('$'))!,
    ),
  ).toBe(true);
});

test('pool mode answers correct bcrypt hashes, in order per connection', async () => {
  const server = await start({ mode: 'pool', cost: 5 });
  const clients = await Promise.all([client(server), client(server), client(server)]);
  const passwords = clients.map((_, i) => [`pw-${i}-a`, `pw-${i} b with spaces`, `pässwörd-${i}`]);
  clients.forEach((c, i) => {
    // All three lines in one write: the server still answers them in order.
    c.socket.write(Buffer.concat(passwords[i]!.map((pw) => encodeFrame(`hash ${pw}`))));
  });
  await Promise.all(
    clients.map(async (c, i) => {
      for (const password of passwords[i]!) {
        const hash = await c.lines.next();
        expect(hash).toMatch(/^\$2b\$05\$/);
        expect(bcrypt.compareSync(password, hash)).toBe(true);
      }
    }),
  );
});

test('a full worker queue refuses a hash with SERVICE_UNAVAILABLE', async () => {
  let others: net.Socket[] = [];
  let started = 0;
  // One worker busy with a slow hash, room for one waiting hash: of the two
  // hashes sent once the first has started, one waits and one is refused.
  const server = await start({
    mode: 'pool',
    workers: 1,
    maxQueue: 1,
    cost: 13,
    onHashStart: () => {
      if (++started === 1) for (const s of others) s.write(encodeFrame('hash later'));
    },
  });
  const busy = await client(server);
  const extra = [await client(server), await client(server)];
  others = extra.map((c) => c.socket);
  busy.socket.write(encodeFrame('hash slow'));

  const firstReply = await Promise.race(extra.map((c) => c.lines.next()));
  expect(firstReply).toMatch(/^! SERVICE_UNAVAILABLE: /);
});

test('one connection cannot queue more than its share of hashes', async () => {
  const server = await start({ mode: 'pool', workers: 1, cost: 13, maxPendingPerClient: 2 });
  const greedy = await client(server);
  greedy.socket.write('hash a\nhash b\nhash c\n');
  expect(await greedy.lines.next()).toMatch(/^! SERVICE_UNAVAILABLE: over 2 hashes pending/);
});

describe.each(['blocking', 'pool'] as const)('%s mode: bad input', (mode) => {
  test('gets error lines with stable codes, and the server keeps serving', async () => {
    const server = await start({ mode });
    const c = await client(server);
    c.socket.write('dance\nhash\nping\n');
    expect(await c.lines.next()).toMatch(/^! BAD_FRAME: unknown command/);
    expect(await c.lines.next()).toMatch(/^! BAD_FRAME: missing password/);
    expect(await c.lines.next()).toBe('pong');

    c.socket.write(encodeFrame(`hash ${'é'.repeat(40)}`)); // 80 bytes: bcrypt would truncate
    expect(await c.lines.next()).toMatch(/^! BAD_PASSWORD: /);
    c.socket.write(Buffer.from([0x68, 0xff, 0xfe, 0x0a]));
    expect(await c.lines.next()).toMatch(/^! BAD_UTF8: /);
    c.socket.write(encodeFrame('hash still works'));
    expect(bcrypt.compareSync('still works', await c.lines.next())).toBe(true);
  });

  test('an oversized line disconnects only that client', async () => {
    const server = await start({ mode });
    const bystander = await client(server);
    const offender = await client(server);
    offender.socket.write('x'.repeat(5000) + '\n');
    expect(await offender.lines.next()).toMatch(/^! FRAME_TOO_LARGE: /);
    await offender.lines.ended;
    bystander.socket.write(encodeFrame('ping'));
    expect(await bystander.lines.next()).toBe('pong');
  });
});
