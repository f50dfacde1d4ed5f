// Join notices in a burst, on a cluster: arrivals on this node and on the
// others reach each member as a few `presence` frames that name them, not
// one `joined` per arrival (n²/2 frames when a cluster's users reconnect).
// Two real nodes on the in-process bus, real TLS clients logging in by
// ticket (no bcrypt); fake timers hold the presence interval still.
import { LoginTickets } from '../../shared/src/login-ticket';
import { PRESENCE_INTERVAL_MS } from '../../shared/src/presence-notices';
import { LocalCluster } from '../src/local-cluster';
import type { ServerFrame } from '../src/messages';
import { connectTo, startCluster, type Client, type TestCluster } from './server-harness';

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startCluster(2, {
    localCluster: new LocalCluster(),
    // Every client comes from 127.0.0.1, and the fake clock refills no bucket.
    maxPreLoginPerAddress: 200,
    rateLimits: { perIp: { capacity: 1_000, refillMs: 1 } },
  });
  // Real timers for the nodes' start, fake ones for everything after it.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});
afterEach(async () => {
  jest.useRealTimers();
  await cluster.close();
});

/** Logs `user` in on node `node` with a ticket and returns the client after its welcome. */
async function arrive(node: number, user: string): Promise<Client> {
  await cluster.store.createUser(user, 'not-a-real-hash');
  const client = await connectTo(cluster.nodes[node]!.port);
  const { ticket } = new LoginTickets({ keys: cluster.ticketKeys }).issue(user);
  client.send({ type: 'resume', user, ticket });
  await client.waitFor((f) => f.type === 'welcome' && f.user === user);
  return client;
}

type Notice = Extract<ServerFrame, { type: 'joined' | 'left' | 'presence' }>;
const isNotice = (f: ServerFrame): f is Notice =>
  f.type === 'joined' || f.type === 'left' || f.type === 'presence';
const noticesOf = (client: Client) => client.frames.filter(isNotice);
const joinedIn = (client: Client) =>
  new Set(
    noticesOf(client).flatMap((f) =>
      f.type === 'presence' ? f.joined : f.type === 'joined' ? [f.who] : [],
    ),
  );

test('30 arrivals across two nodes reach each member as a few frames naming them all', async () => {
  const watchers = [await arrive(0, 'watcher0'), await arrive(1, 'watcher1')];
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS); // both rooms quiet again
  for (const w of watchers) w.frames.length = 0; // count from the burst on
  const names = Array.from({ length: 30 }, (_, i) => `user${i}`);
  const arrivals: Client[] = [];
  for (const [i, name] of names.entries()) arrivals.push(await arrive(i % 2, name));

  // The last arrival (on node 1) speaks at once: the notices waiting there
  // go out first, so no one reads a user before the notice announcing them.
  arrivals.at(-1)!.send({ type: 'chat', text: 'hi' });
  const watcher1 = watchers[1]!;
  await watcher1.waitFor((f) => f.type === 'chat' && f.text === 'hi');
  const chatAt = watcher1.frames.findIndex((f) => f.type === 'chat');
  const before = watcher1.frames.slice(0, chatAt).filter(isNotice);
  expect(before.some((f) => f.type === 'presence' && f.joined.includes('user29'))).toBe(true);

  // Then the interval ends: what is left goes out as one more frame.
  jest.advanceTimersByTime(PRESENCE_INTERVAL_MS);
  for (const w of watchers) {
    await w.waitFor(() => names.every((n) => joinedIn(w).has(n)));
    // One `joined` at once (the quiet room's first news), then batches:
    // at most one before the chat and one at the interval's end.
    expect(noticesOf(w).length).toBeLessThanOrEqual(3);
    expect(noticesOf(w).at(-1)).toMatchObject({ type: 'presence', online: 32 });
  }
  for (const c of arrivals) c.socket.destroy();
  for (const w of watchers) w.socket.destroy();
});
