import net from 'node:net';
import { once } from 'node:events';
import { ChatError } from '../src/errors';
import { encodeFrame } from '../src/framing';
import { DEFAULT_MAX_QUEUE_BYTES, Room } from '../src/room';
import { connect, LineReader } from './helpers';

// Real sockets only: each member's socket is the server end of a loopback
// connection, and the test reads what the room wrote from the client end.
type Member = { socket: net.Socket; name: string };
type Pair = { member: Member; peer: net.Socket; lines: LineReader };

let listener: net.Server;
let port: number;
const accepted: net.Socket[] = [];
const open: net.Socket[] = [];

beforeAll(async () => {
  listener = net.createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as net.AddressInfo).port;
});

afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
});

async function pair(name: string): Promise<Pair> {
  const peer = await connect(port);
  const lines = new LineReader(peer);
  // Find the server end of this very connection (pairs may be made concurrently).
  const mine = () => accepted.find((s) => s.remotePort === peer.localPort);
  while (!mine()) await once(listener, 'connection');
  const socket = mine()!;
  open.push(peer, socket);
  return { member: { socket, name }, peer, lines };
}

/** A socket that is still connecting queues every write: its writableLength grows at once. */
function connectingMember(name: string): Member {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  open.push(socket);
  return { socket, name };
}

describe('Room membership', () => {
  test('join, has, size, and members() as a snapshot in join order', async () => {
    const room = new Room<Member>();
    const a = (await pair('a')).member;
    const b = (await pair('b')).member;
    expect(room.join(a)).toBe(true);
    expect(room.join(b)).toBe(true);
    expect(room.join(a)).toBe(false);
    expect(room.size).toBe(2);
    expect(room.has(a)).toBe(true);
    const snapshot = room.members();
    room.leave(a);
    expect(snapshot.map((m) => m.name)).toEqual(['a', 'b']);
    expect(room.members().map((m) => m.name)).toEqual(['b']);
  });

  test('leave() removes exactly once, however many disconnect events fire', async () => {
    const room = new Room<Member>();
    const { member, peer } = await pair('a');
    room.join(member);
    const removals: string[] = [];
    const onEvent = (event: string) => () => {
      if (room.leave(member)) removals.push(event);
    };
    member.socket.on('end', onEvent('end'));
    member.socket.on('error', onEvent('error'));
    member.socket.on('close', onEvent('close'));
    peer.resetAndDestroy(); // the peer vanishes abruptly: 'error' (ECONNRESET) and 'close'
    await new Promise((resolve) => member.socket.once('close', resolve));
    expect(removals).toHaveLength(1);
    expect(room.size).toBe(0);
    expect(room.leave(member)).toBe(false);
  });
});

describe('Room.broadcast', () => {
  test('writes the frame to every member but the excepted one', async () => {
    const room = new Room<Member>();
    const [a, b, c] = await Promise.all([pair('a'), pair('b'), pair('c')]);
    for (const p of [a, b, c]) room.join(p.member);
    expect(room.broadcast(encodeFrame('from a'), a.member)).toBe(2);
    expect(room.broadcast(encodeFrame('to all'))).toBe(3);
    expect(await b.lines.next()).toBe('from a');
    expect(await c.lines.next()).toBe('from a');
    expect(await a.lines.next()).toBe('to all'); // a's first line: it never got its own
  });

  test('a member removed during the broadcast is not written to, one added is not either', async () => {
    const [b, c] = await Promise.all([pair('b'), pair('c')]);
    const joinedLate = await pair('late');
    const room: Room<Member> = new Room<Member>({
      maxQueueBytes: 4,
      // Runs in the middle of the broadcast, as an 'error' -> leave could.
      onSlowConsumer: () => {
        room.leave(c.member);
        room.join(joinedLate.member);
      },
    });
    const slow = connectingMember('slow'); // not connected until after this tick
    for (const m of [slow, b.member, c.member]) room.join(m);
    expect(room.broadcast(encodeFrame('hello'))).toBe(1); // only b
    expect(slow.socket.destroyed).toBe(true);
    // slow stays a member until its 'close' makes the owner call leave(),
    // but a destroyed socket is skipped: b and late get 'second'.
    expect(room.has(slow)).toBe(true);
    expect(room.broadcast(encodeFrame('second'))).toBe(2);
    room.send(c.member, encodeFrame('marker'));
    expect(await b.lines.next()).toBe('hello');
    expect(await b.lines.next()).toBe('second');
    expect(await c.lines.next()).toBe('marker'); // c left mid-broadcast: nothing before the marker
    expect(await joinedLate.lines.next()).toBe('second'); // joined after 'hello' began
  });

  // A member stays in the room until its socket's 'close' makes the owner
  // call leave(); until then its socket may be over. Ended: the server has
  // sent its FIN (stage 6 answers a client's FIN that way, and the member
  // keeps its session until the close). Destroyed: its owner or the cap cut
  // it off. A write after end is an 'error' event (ERR_STREAM_WRITE_AFTER_END:
  // an uncaught exception for an owner with no 'error' listener); one to a
  // destroyed socket is silently dropped. Either way the member would be
  // counted as written to. So the room checks before it writes.
  test('a member whose socket has ended or been destroyed is skipped: nothing written, not counted, no error', async () => {
    const room = new Room<Member>();
    const [ended, destroyed, reader] = await Promise.all([
      pair('ended'),
      pair('destroyed'),
      pair('reader'),
    ]);
    const errors: string[] = [];
    for (const { member } of [ended, destroyed]) {
      member.socket.removeAllListeners('error'); // as an owner that did not expect one
      member.socket.on('error', (err: NodeJS.ErrnoException) =>
        errors.push(`${member.name}: ${err.code}`),
      );
    }
    for (const p of [ended, destroyed, reader]) room.join(p.member);
    ended.member.socket.end(); // our FIN is sent; the socket is not closed yet
    destroyed.member.socket.destroy();
    expect(ended.member.socket.destroyed).toBe(false);
    expect(room.size).toBe(3); // both still members: their 'close' has not been handled

    expect(room.broadcast(encodeFrame('to all'))).toBe(1);
    expect(room.send(ended.member, encodeFrame('to ended'))).toBe(false);
    expect(room.send(destroyed.member, encodeFrame('to destroyed'))).toBe(false);
    // The ended member's peer reads our FIN and nothing before it; the reader gets the frame.
    await ended.lines.ended;
    expect(ended.lines.lines).toEqual([]);
    expect(await reader.lines.next()).toBe('to all');
    // Any 'error' from a write would have been emitted by now (on the next tick).
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([]);
  });

  test("a turn's first frame to a member goes out at once, the rest together when the turn's I/O is done", async () => {
    const room = new Room<Member>();
    const [a, b] = await Promise.all([pair('a'), pair('b')]);
    room.join(a.member);
    room.join(b.member);
    room.broadcast(encodeFrame('one'));
    // The first frame of the turn was handed to the kernel at once: nothing corked, nothing queued.
    for (const { member } of [a, b]) {
      expect(member.socket.writableCorked).toBe(0);
      expect(member.socket.writableLength).toBe(0);
    }
    room.send(a.member, encodeFrame('two'));
    room.broadcast(encodeFrame('three'), b.member);
    // The second and third wait, corked, for the end of the turn.
    expect(a.member.socket.writableCorked).toBe(1);
    expect(a.member.socket.writableLength).toBe('two\nthree\n'.length);
    expect(b.member.socket.writableCorked).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.member.socket.writableCorked).toBe(0);
    expect(b.member.socket.writableCorked).toBe(0);
    expect([await a.lines.next(), await a.lines.next(), await a.lines.next()]).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(await b.lines.next()).toBe('one');
  });

  test('the cap judges what the peer has not taken, not what the turn has not sent yet', async () => {
    // 64 writes of 1 KiB in one turn to a member that reads: 64 KiB corked,
    // far over a 16 KiB cap, but the kernel takes it when asked, so the
    // member is not cut off.
    const room = new Room<Member>({ maxQueueBytes: 16 * 1024 });
    const a = await pair('a');
    room.join(a.member);
    const line = 'x'.repeat(1023);
    for (let i = 0; i < 64; i++) expect(room.send(a.member, encodeFrame(line))).toBe(true);
    expect(a.member.socket.destroyed).toBe(false);
    for (let i = 0; i < 64; i++) expect(await a.lines.next()).toBe(line);
  });

  test('a member that stops reading is cut off at the cap; the others get everything, in order', async () => {
    const reported: Array<{ name: string; error: ChatError }> = [];
    const room = new Room<Member>({
      maxQueueBytes: 64 * 1024,
      onSlowConsumer: (member, error) => reported.push({ name: member.name, error }),
    });
    const reader = await pair('reader');
    const stuck = await pair('stuck');
    stuck.peer.pause(); // never reads again: kernel buffers fill, then the room's queue grows
    room.join(stuck.member);
    room.join(reader.member);
    const payload = 'x'.repeat(16 * 1024);
    let sent = 0;
    while (!stuck.member.socket.destroyed) {
      room.broadcast(encodeFrame(`${sent} ${payload}`));
      // Wait for the reader, so only the stuck member's backlog grows.
      expect(await reader.lines.next()).toBe(`${sent} ${payload}`);
      sent++;
      if (sent > 100_000) throw new Error('the stuck member was never disconnected');
    }
    expect(reported).toHaveLength(1);
    expect(reported[0]!.name).toBe('stuck');
    expect(reported[0]!.error.code).toBe('SLOW_CONSUMER');
    expect(stuck.member.socket.writableLength).toBe(0); // destroy() released the queue
    // Nothing more is written to it, and the reader carries on.
    expect(room.send(stuck.member, encodeFrame('more'))).toBe(false);
    expect(room.broadcast(encodeFrame('after'))).toBe(1);
    expect(await reader.lines.next()).toBe('after');
  });

  test('the default cap is 1 MiB', () => {
    expect(new Room().maxQueueBytes).toBe(DEFAULT_MAX_QUEUE_BYTES);
    expect(DEFAULT_MAX_QUEUE_BYTES).toBe(1024 * 1024);
  });
});
