// Join and leave notices stop in a big room, as in stage 6: a change between
// n - 1 and n members is announced only if n <= the presence limit (after a
// join, before a leave). Here the limit is 3.
//
// A notice that was NOT sent cannot be waited for. Each check waits instead
// for a chat line that must come after it: a line another member sends once
// the server has handled the join or leave. TCP keeps one connection's bytes
// in order, so when that line arrives, any notice queued before it has too.
import { EventEmitter } from 'node:events';
import { PRESENCE_NOTICE_LIMIT } from '../../shared/src/presence';
import { startServer, type ChatServer } from '../src/server';
import { joinRoom, type Peer } from './chat-peer';

let server: ChatServer;
const log: string[] = [];
const logged = new EventEmitter();
beforeEach(async () => {
  log.length = 0;
  const record = (line: string) => {
    log.push(line);
    logged.emit('line', line);
  };
  server = await startServer({ port: 0, presenceLimit: 3, log: record });
});
afterEach(() => server.close());

let markers = 0;
/**
 * Has each peer receive one chat line from another (the last peer's line for
 * the first, the first peer's for the rest), then returns the join and leave
 * notices each peer has received so far, as `+label online` / `-label online`.
 */
async function noticesSoFar(peers: Peer[]): Promise<string[][]> {
  const marker = `marker ${++markers}`;
  peers[0]!.say(marker);
  if (peers.length > 1) peers.at(-1)!.say(marker);
  await Promise.all(peers.map((p) => p.lines.waitFor(`: ${marker}`)));
  return peers.map((p) =>
    p.lines.lines.flatMap((line) => {
      const m = /^\* (\S+) (joined|left) \((\d+) online\)$/.exec(line);
      return m ? [`${m[2] === 'joined' ? '+' : '-'}${label(m[1]!)} ${m[3]}`] : [];
    }),
  );
}

// Short names for the labels in the expectations: the peers' index + 1.
const names = new Map<string, string>();
const label = (l: string) => names.get(l) ?? l;

async function join(name: string): Promise<Peer> {
  const peer = await joinRoom(server.port);
  names.set(peer.label, name);
  return peer;
}

async function leave(peer: Peer): Promise<void> {
  // The server logs a leave right before it sends the notice, if any.
  const left = new Promise<void>((resolve) => {
    const onLine = (line: string) => {
      if (!line.startsWith(`${peer.label} left `)) return;
      logged.off('line', onLine);
      resolve();
    };
    logged.on('line', onLine);
  });
  peer.socket.end();
  await left;
}

test('the default limit is 1,000, as in stage 6', () => {
  expect(PRESENCE_NOTICE_LIMIT).toBe(1000);
});

test('joins and leaves are announced up to the limit, not beyond; welcome keeps the exact count', async () => {
  const p1 = await join('p1');
  const p2 = await join('p2');
  const p3 = await join('p3'); // the room now has 3 = the limit: announced
  const p4 = await join('p4'); // 4 > 3: not announced
  expect(p4.lines.lines[0]).toMatch(/\(4 online\)$/);
  expect(await noticesSoFar([p1, p2, p3, p4])).toEqual([['+p2 2', '+p3 3'], ['+p3 3'], [], []]);

  // A leave from a room of 4: not announced. The next, from a room of 3: announced.
  await leave(p4);
  expect(await noticesSoFar([p1, p2, p3])).toEqual([['+p2 2', '+p3 3'], ['+p3 3'], []]);
  await leave(p3);
  expect(await noticesSoFar([p1, p2])).toEqual([
    ['+p2 2', '+p3 3', '-p3 2'],
    ['+p3 3', '-p3 2'],
  ]);

  // Back up through the limit: the same rule on the way up again.
  const p5 = await join('p5'); // 3: announced
  const p6 = await join('p6'); // 4: not
  expect(await noticesSoFar([p1, p2, p5, p6])).toEqual([
    ['+p2 2', '+p3 3', '-p3 2', '+p5 3'],
    ['+p3 3', '-p3 2', '+p5 3'],
    [],
    [],
  ]);
  // The log still records every arrival and departure.
  expect(log.filter((l) => / (joined|left) /.test(l))).toHaveLength(8);
  for (const p of [p1, p2, p5, p6]) p.socket.destroy();
});

test('a presence limit that is not a whole number >= 0 is refused before the server starts', async () => {
  for (const presenceLimit of [-1, 1.5, Number.NaN]) {
    await expect(startServer({ port: 0, presenceLimit })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
  }
});
