// Stage 4, write the core: broadcast with a send-queue cap. The task and the
// stub are in exercises/core/stage4/room.ts.
//
// The checks wire the learner's Room into a small chat server of their own
// (every line a member sends is broadcast as `LABEL: TEXT`), on a real port,
// and connect real sockets to it. A member that "stops reading" is a client
// socket that is paused: the kernel's buffers fill, then the server's queue.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { connectLines } from '../../kit/lines';

const STARTER = 'exercises/core/stage4/room.ts';

/** A member as the harness server keeps it. */
interface Member {
  readonly socket: net.Socket;
  readonly label: string;
}

/** The stub's API (see the starter file). */
interface Room {
  join(member: Member): boolean;
  leave(member: Member): boolean;
  readonly size: number;
  broadcast(frame: Buffer, except?: Member): number;
  send(member: Member, frame: Buffer): boolean;
}
interface Core {
  Room: new (options?: {
    maxQueueBytes?: number;
    onSlowConsumer?: (member: Member) => void;
  }) => Room;
}

/** The harness: a chat server around the learner's room, and what it saw. */
async function startChat(ctx: CheckContext, maxQueueBytes?: number) {
  const { Room } = ctx.load<Core>(STARTER);
  const dropped: Member[] = [];
  const room = new Room({
    ...(maxQueueBytes === undefined ? {} : { maxQueueBytes }),
    onSlowConsumer: (member) => dropped.push(member),
  });
  // Each member, and a promise that resolves once it has left the room.
  const byPort = new Map<number, { member: Member; gone: Promise<void> }>();
  const arrivals = new Map<number, () => void>();
  const server = net.createServer((socket) => {
    const member: Member = { socket, label: `127.0.0.1:${socket.remotePort}` };
    socket.on('error', () => {});
    const gone = new Promise<void>((resolve) => {
      socket.on('close', () => {
        room.leave(member);
        resolve();
      });
    });
    room.join(member);
    byPort.set(socket.remotePort!, { member, gone });
    arrivals.get(socket.remotePort!)?.();
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) room.broadcast(Buffer.from(`${member.label}: ${line}\n`), member);
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => sockets.add(s));
  ctx.defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  await once(server.listen(0, '127.0.0.1'), 'listening');
  const port = (server.address() as net.AddressInfo).port;

  /** Connects a client and waits until the server has put it in the room. */
  const join = async () => {
    const client = await connectLines(ctx, port);
    const local = client.localPort;
    if (!byPort.has(local)) await new Promise<void>((resolve) => arrivals.set(local, resolve));
    return { client, ...byPort.get(local)! };
  };
  return { room, dropped, join };
}

const FRAME_BYTES = 16 * 1024;
const frame = (i: number) => Buffer.from(`frame ${i} `.padEnd(FRAME_BYTES - 1, 'x') + '\n');

/**
 * The stuck-reader scenario: a member that never reads joins first, then one
 * that reads. Frames are broadcast, paced by the reader (as a real sender is
 * paced by the network), until the stuck member is dropped or 64 MiB went out.
 */
async function stuckReader(ctx: CheckContext) {
  const cap = 256 * 1024;
  const chat = await startChat(ctx, cap);
  const stuck = await chat.join();
  stuck.client.socket.pause(); // stops reading: the kernel's buffers fill, then the server's queue
  const reader = await chat.join();
  let sent = 0;
  let queuedBeforeDrop = 0;
  const droppedYet = () => chat.dropped.length > 0 || stuck.member.socket.destroyed;
  while (!droppedYet() && sent * FRAME_BYTES < 64 * 1024 * 1024) {
    queuedBeforeDrop = stuck.member.socket.writableLength;
    const written = chat.room.broadcast(frame(sent));
    sent++;
    if (typeof written !== 'number') {
      throw new Error(`broadcast() returned ${String(written)}, not a number`);
    }
    if (reader.member.socket.writableLength > 64 * 1024) await once(reader.member.socket, 'drain');
  }
  return { chat, stuck, reader, sent, cap, queuedBeforeDrop };
}

export const exercise: Exercise = {
  title: 'Write the core: broadcast with a send-queue cap',
  readme: 'stage4-multiclient/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'a line goes to every member but its sender, and broadcast() says to how many',
      hint: 'loop over the members, skip `except`, send() to each, count the true results',
      async run(ctx) {
        const chat = await startChat(ctx);
        const ana = await chat.join();
        const bo = await chat.join();
        const cy = await chat.join();
        ana.client.send('hello, room\n');
        expectSame(await bo.client.next(), `${ana.member.label}: hello, room`, 'what Bo received');
        expectSame(await cy.client.next(), `${ana.member.label}: hello, room`, 'what Cy received');
        bo.client.send('and back\n');
        // Ana did not get her own line: the next thing she sees is Bo's.
        expectSame(
          await ana.client.next(),
          `${bo.member.label}: and back`,
          'what Ana received next',
        );
        expectSame(
          chat.room.broadcast(Buffer.from('* hi\n'), ana.member),
          2,
          'broadcast(frame, ana) with 3 members',
        );
        expectSame(
          chat.room.broadcast(Buffer.from('* hi all\n')),
          3,
          'broadcast(frame) with 3 members',
        );
      },
    },
    {
      name: 'send() to a destroyed or ended socket returns false, throws nothing, and is not counted',
      hint: 'check socket.destroyed and socket.writableEnded before you write',
      async run(ctx) {
        const chat = await startChat(ctx);
        const ana = await chat.join();
        const bo = await chat.join();
        const cy = await chat.join();
        expectSame(chat.room.send(bo.member, Buffer.from('just for you\n')), true, 'send() to Bo');
        expectSame(await bo.client.next(), 'just for you', 'what Bo received');
        // Both still in the room: their 'close' (which calls leave) has not run yet.
        bo.member.socket.destroy();
        cy.member.socket.end();
        expectSame(
          chat.room.send(bo.member, Buffer.from('x\n')),
          false,
          'send() to a destroyed socket',
        );
        expectSame(
          chat.room.send(cy.member, Buffer.from('x\n')),
          false,
          'send() to an ended socket',
        );
        expectSame(
          chat.room.broadcast(Buffer.from('still here?\n')),
          1,
          'broadcast() counting only Ana',
        );
        expectSame(await ana.client.next(), 'still here?', 'what Ana received');
      },
    },
    {
      name: 'a member that stops reading is dropped once its queue passes maxQueueBytes, and not before',
      hint: 'after socket.write(), compare socket.writableLength with maxQueueBytes; past it: destroy(), onSlowConsumer(member), return false',
      async run(ctx) {
        const { chat, stuck, sent, cap, queuedBeforeDrop } = await stuckReader(ctx);
        const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
        assert.ok(
          chat.dropped.length > 0,
          `after ${mib(sent * FRAME_BYTES)} sent, the member that stopped reading was never dropped; ` +
            `${mib(stuck.member.socket.writableLength)} are queued for it in memory (cap ${cap / 1024} KiB)`,
        );
        assert.ok(
          queuedBeforeDrop + FRAME_BYTES > cap,
          `dropped when its queue held at most ${queuedBeforeDrop + FRAME_BYTES} bytes, under the ${cap}-byte cap: a queue past 16 KiB (write() returning false) is normal, not yet a reason to drop`,
        );
        expectSame(chat.dropped.length, 1, 'calls to onSlowConsumer');
        expectSame(chat.dropped[0], stuck.member, 'the member onSlowConsumer was told about');
        assert.ok(
          stuck.member.socket.destroyed,
          "the dropped member's socket was not destroyed (end() keeps the queue until a reader that never reads has read it)",
        );
        // The client sees the connection go once it reads again (a FIN waits
        // behind the bytes the kernel still holds for it).
        stuck.client.socket.resume();
        await stuck.client.closed;
      },
    },
    {
      name: 'everyone else is unaffected: the member who reads gets every frame, in order, and the room goes on',
      hint: 'never wait for one member before writing to the next, and keep going after dropping one',
      async run(ctx) {
        const { chat, stuck, reader, sent } = await stuckReader(ctx);
        assert.ok(
          chat.dropped.length > 0,
          'the member that stopped reading was never dropped (see the previous check)',
        );
        // A marker after the last frame: a frame that never came shows up as
        // the marker arriving early, at once, not as a wait for ever.
        if (stuck.member.socket.destroyed) await stuck.gone;
        chat.room.broadcast(Buffer.from('end of frames\n'));
        for (let i = 0; i < sent; i++) {
          const line = await reader.client.next();
          if (!line.startsWith(`frame ${i} `) || line.length !== FRAME_BYTES - 1) {
            throw new Error(
              `the member who reads expected frame ${i} of ${sent}, and got ${JSON.stringify(line.slice(0, 30))}`,
            );
          }
        }
        expectSame(await reader.client.next(), 'end of frames', 'the line after the last frame');
        const late = await chat.join();
        late.client.send('after the drop\n');
        expectSame(
          await reader.client.next(),
          `${late.member.label}: after the drop`,
          'a line sent after the drop',
        );
      },
    },
  ],
};
