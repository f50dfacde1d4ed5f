// Join and leave notices in a burst: many arrivals within one presence
// interval reach each member as one frame that names them, not one frame
// per arrival (which made a thousand reconnects cost n²/2 frames). A real
// server and real TLS clients; fake timers run the interval.
import { LoginTickets } from '../../shared/src/login-ticket';
import { MAX_LISTED_USERS, type ServerFrame } from '../src/messages';
import { PRESENCE_INTERVAL_MS } from '../../shared/src/presence-notices';
import { renderServerFrame } from '../src/render';
import { rawTls, startTestServer, type RawTls, type TestServer } from './harness';

let t: TestServer;
const clients: RawTls[] = [];

beforeEach(async () => {
  t = await startTestServer({
    // Every client comes from 127.0.0.1, and the fake clock refills no bucket.
    maxPreLoginPerAddress: 200,
    rateLimits: { perIp: { capacity: 1_000, refillMs: 1 } },
  });
  // Real timers for the server's start, fake ones for everything after it.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});
afterEach(async () => {
  jest.useRealTimers();
  for (const c of clients.splice(0)) c.socket.destroy();
  await t.close();
});

/** Logs `user` in with a ticket (no bcrypt) and returns the client after its welcome. */
async function arrive(user: string): Promise<RawTls> {
  await t.store.createUser(user, 'not-a-real-hash');
  const client = await rawTls(t.port);
  clients.push(client);
  client.send({
    type: 'resume',
    user,
    ticket: new LoginTickets({ keys: t.ticketKeys }).issue(user).ticket,
  });
  expect(await client.next()).toEqual(expect.objectContaining({ type: 'welcome', user }));
  return client;
}

/** The frames a client receives before the chat `marker`. */
async function framesBefore(client: RawTls, marker: string): Promise<ServerFrame[]> {
  const frames: ServerFrame[] = [];
  for (;;) {
    const frame = await client.next();
    if (frame === undefined) throw new Error('closed before the marker');
    if (frame.type === 'chat' && frame.text === marker) return frames;
    frames.push(frame);
  }
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('60 arrivals in one burst are one frame per member, naming them; 10 departures another', async () => {
  const watcher = await arrive('watcher'); // a quiet room: its notice goes at once, to nobody
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS); // quiet again
  // A chat is relayed to everyone but its sender: the marker, sent by a
  // member of its own, ends each client's count of frames.
  const marker = await arrive('marker');
  expect(await watcher.next()).toEqual({ type: 'joined', who: 'marker', online: 2 });
  const arrivals = names('user', 60);
  const arrived = await Promise.all(arrivals.map(arrive));
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS);
  marker.send({ type: 'chat', text: 'mark 1' });

  const seen = await framesBefore(watcher, 'mark 1');
  expect(seen).toEqual([
    {
      type: 'presence',
      joined: expect.any(Array) as string[],
      joinedCount: 60,
      left: [],
      leftCount: 0,
      online: 62,
    },
  ]);
  const listed = (seen[0] as { joined: string[] }).joined;
  expect(listed).toHaveLength(MAX_LISTED_USERS);
  expect(new Set(listed).size).toBe(MAX_LISTED_USERS);
  for (const name of listed) expect(arrivals).toContain(name);
  // Every newcomer gets that same one frame, not up to 59 `joined` frames.
  for (const client of arrived) {
    expect((await framesBefore(client, 'mark 1')).map((f) => f.type)).toEqual(['presence']);
  }

  const leaving = arrivals.slice(0, 10);
  const gone = leaving.map((user) =>
    t.waitForLog((r) => r.event === 'disconnect' && r.user === user),
  );
  for (const client of arrived.slice(0, 10)) client.socket.destroy();
  await Promise.all(gone);
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS);
  marker.send({ type: 'chat', text: 'mark 2' });
  const after = await framesBefore(watcher, 'mark 2');
  expect(after).toEqual([
    {
      type: 'presence',
      joined: [],
      joinedCount: 0,
      left: expect.any(Array),
      leftCount: 10,
      online: 52,
    },
  ]);
  expect([...(after[0] as { left: string[] }).left].sort()).toEqual([...leaving].sort());
});

test('a notice in a quiet room goes at once; a waiting one goes before a chat from its user', async () => {
  const alice = await arrive('alice');
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS); // a whole interval without news: quiet
  const bob = await arrive('bob');
  // No timer moved: bob's notice was sent at once.
  expect(await alice.next()).toEqual({ type: 'joined', who: 'bob', online: 2 });
  const carol = await arrive('carol'); // within bob's interval: waits
  carol.send({ type: 'chat', text: 'hi, I am carol' });
  expect(await alice.next()).toEqual({ type: 'joined', who: 'carol', online: 3 });
  expect(await alice.next()).toEqual({ type: 'chat', from: 'carol', text: 'hi, I am carol' });
  expect(await bob.next()).toEqual({ type: 'joined', who: 'carol', online: 3 });
});

test('a user who joins and leaves within one interval is news to nobody', async () => {
  const alice = await arrive('alice'); // starts an interval
  const brief = await arrive('brief');
  const gone = t.waitForLog((r) => r.event === 'disconnect' && r.user === 'brief');
  brief.socket.destroy();
  await gone;
  await arrive('carol');
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS);
  expect(await alice.next()).toEqual({ type: 'joined', who: 'carol', online: 2 });
});

test('the client shows a batch as one line: the names, then the rest as a count', () => {
  const frame = { type: 'presence', joinedCount: 60, leftCount: 1, online: 59 } as const;
  expect(renderServerFrame({ ...frame, joined: ['bob', 'carol'], left: ['dave'] })).toEqual({
    kind: 'notice',
    text: '* bob, carol and 58 more joined; dave left (59 online)',
  });
  expect(
    renderServerFrame({
      ...frame,
      joined: ['bob', 'carol'],
      joinedCount: 2,
      left: [],
      leftCount: 0,
    }),
  ).toEqual({ kind: 'notice', text: '* bob and carol joined (59 online)' });
});
