// With no Redis: nodes on one in-process bus (what `npm run stage9:cluster`
// runs on a fresh clone), and a node alone (what `npm run stage9` runs).
import { once } from 'node:events';
import net from 'node:net';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import { handshakeOnce } from '../../shared/test/tls-fixtures';
import { ALPN_PROTOCOL } from '../src/messages';
import { LocalCluster } from '../src/local-cluster';
import { chatFrom, join, startCluster, type TestCluster } from './server-harness';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

test('two nodes on the in-process bus are one room: chat, presence, /who, one session per user', async () => {
  cluster = await startCluster(2, { localCluster: new LocalCluster() });
  const [a, b] = cluster.nodes.map((n) => n.port);
  const alice = await join(a!, 'alice');
  const bob = await join(b!, 'bob');
  expect(await alice.waitFor((f) => f.type === 'joined')).toMatchObject({ who: 'bob', online: 2 });
  await expect(join(a!, 'bob', 'login')).rejects.toThrow('ALREADY_LOGGED_IN');
  for (const text of ['one', 'two', 'three']) alice.send({ type: 'chat', text });
  await bob.waitFor((f) => f.type === 'chat' && f.text === 'three');
  expect(chatFrom(bob, 'alice')).toEqual(['one', 'two', 'three']);
  bob.send({ type: 'who' });
  expect(await bob.waitFor((f) => f.type === 'who')).toEqual({
    type: 'who',
    count: 2,
    online: ['alice', 'bob'],
  });
  expect(cluster.nodes.map((n) => n.clusterState)).toEqual(['joined', 'joined']);
});

test('a node alone (no Redis, no shared bus) is stage 7’s server: a room of its own', async () => {
  cluster = await startCluster(2); // each joins a cluster of its own
  const [a, b] = cluster.nodes.map((n) => n.port);
  const alice = await join(a!, 'alice');
  const carol = await join(a!, 'carol');
  const bob = await join(b!, 'bob');
  alice.send({ type: 'chat', text: 'hello' });
  await carol.waitFor((f) => f.type === 'chat');
  bob.send({ type: 'who' });
  expect(await bob.waitFor((f) => f.type === 'who')).toMatchObject({ count: 1 });
  expect(chatFrom(bob, 'alice')).toEqual([]);
});

test('a member flooding chat on one node is slowed to its message budget: a member on the other node overtakes the flood', async () => {
  cluster = await startCluster(2, { localCluster: new LocalCluster() });
  const [a, b] = cluster.nodes.map((n) => n.port);
  const mallory = await join(a!, 'mallory');
  const alice = await join(b!, 'alice');
  const bob = await join(b!, 'bob');
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  mallory.socket.write(Array.from({ length: 300 }, (_, i) => chat(`flood ${i}`)).join(''));
  await bob.waitFor((f) => f.type === 'chat' && f.from === 'mallory');
  alice.send({ type: 'chat', text: 'hello' });
  const hello = await bob.waitFor((f) => f.type === 'chat' && f.from === 'alice');
  const before = chatFrom(
    { ...bob, frames: bob.frames.slice(0, bob.frames.indexOf(hello)) },
    'mallory',
  );
  // The burst, not the whole read: before the budget, 64 frames a turn went out at once.
  expect(before.length).toBeGreaterThanOrEqual(DEFAULT_MESSAGE_BUDGET.capacity);
  expect(before.length).toBeLessThan(40);
  mallory.socket.destroy(); // not ended: its end would wait behind the flood
});

test('a member that sends past its burst and ends loses nothing: the other node gets the rest at the pace, then `left`', async () => {
  cluster = await startCluster(2, {
    localCluster: new LocalCluster(),
    messageBudget: { capacity: 20, refillMs: 50 },
  });
  const [a, b] = cluster.nodes.map((n) => n.port);
  const mallory = await join(a!, 'mallory');
  const bob = await join(b!, 'bob');
  await mallory.waitFor((f) => f.type === 'joined'); // bob is in the room
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  mallory.socket.end(Array.from({ length: 30 }, (_, i) => chat(`flood ${i}`)).join(''));
  await mallory.closed; // answered once the held frames are out
  const left = await bob.waitFor((f) => f.type === 'left' && f.who === 'mallory');
  // Before: the 20 of the burst, then `left`; what the budget held was dropped.
  expect(
    chatFrom({ ...bob, frames: bob.frames.slice(0, bob.frames.indexOf(left)) }, 'mallory'),
  ).toEqual(Array.from({ length: 30 }, (_, i) => `flood ${i}`));
});

test('a node shut down while a member that ended still has frames held ends that session at once', async () => {
  cluster = await startCluster(2, {
    localCluster: new LocalCluster(),
    messageBudget: { capacity: 20, refillMs: 3_600_000 },
  });
  const [a, b] = cluster.nodes.map((n) => n.port);
  const mallory = await join(a!, 'mallory');
  const bob = await join(b!, 'bob');
  await mallory.waitFor((f) => f.type === 'joined');
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  mallory.socket.end(Array.from({ length: 30 }, (_, i) => chat(`flood ${i}`)).join(''));
  await bob.waitFor((f) => f.type === 'chat' && f.text === 'flood 19'); // the burst
  await cluster.nodes[0]!.close(); // mallory still waits for the other ten: she gets `bye`
  await mallory.closed;
  await bob.waitFor((f) => f.type === 'left' && f.who === 'mallory');
  const departures = cluster.logLines.filter((l) => l.includes('"event":"disconnect"'));
  expect(departures).toHaveLength(1); // logged before close() resolved, not an hour later
  expect(chatFrom(bob, 'mallory')).toHaveLength(20);
});

test('a member whose client vanished while frames were held gives way when its user logs in again on that node', async () => {
  cluster = await startCluster(1, {
    localCluster: new LocalCluster(),
    messageBudget: { capacity: 20, refillMs: 3_600_000 },
  });
  const port = cluster.nodes[0]!.port;
  const mallory = await join(port, 'mallory');
  const bob = await join(port, 'bob');
  const chat = (text: string) => JSON.stringify({ type: 'chat', text }) + '\n';
  mallory.socket.end(Array.from({ length: 30 }, (_, i) => chat(`flood ${i}`)).join(''));
  await bob.waitFor((f) => f.type === 'chat' && f.text === 'flood 19'); // ten held for an hour
  mallory.socket.destroy(); // the client dies; a write to it will meet the reset
  const outcomes: string[] = [];
  // At most 8 tries: bob's own budget (20 frames, the same hour) must last.
  for (let i = 0; i < 8 && outcomes.at(-1) !== 'welcome'; i++) {
    bob.send({ type: 'chat', text: `anyone there? ${i}` });
    bob.send({ type: 'who' });
    await bob.waitFor(
      (f) => f.type === 'who' && bob.frames.filter((g) => g.type === 'who').length > i,
    );
    const again = await join(port, 'mallory', 'login').then(
      (client) => (client.socket.destroy(), 'welcome'),
      (err: Error) => err.message,
    );
    outcomes.push(again);
  }
  // Before: ALREADY_LOGGED_IN for the hour the held frames needed.
  expect(outcomes.at(-1)).toBe('welcome');
});

test('a handshake that stalls is closed at its deadline, and its place under the caps is freed', async () => {
  cluster = await startCluster(1, { handshakeTimeoutMs: 200, maxPreLoginPerAddress: 1 });
  const port = cluster.nodes[0]!.port;
  const stalled = net.connect({ host: '127.0.0.1', port });
  stalled.on('error', () => {});
  stalled.write(Buffer.from([0x16])); // a handshake record's first byte, and nothing more
  await once(stalled, 'close'); // closed by the node (the test would hang otherwise)
  await join(port, 'alice'); // the address's one place is free again
});

test('an address looping connect, handshake, close is dropped before its handshake once past its pace', async () => {
  cluster = await startCluster(1, {
    newConnectionsPerAddress: { capacity: 5, refillMs: 3_600_000 },
  });
  const port = cluster.nodes[0]!.port;
  const finished: boolean[] = [];
  for (let i = 0; i < 8; i++) finished.push(await handshakeOnce(port, ALPN_PROTOCOL));
  expect(finished).toEqual([true, true, true, true, true, false, false, false]);
});

test("a node's close() resolves once every connection has closed and its departure is logged", async () => {
  cluster = await startCluster(1, { localCluster: new LocalCluster() });
  const users = ['ann', 'ben', 'cat', 'dan', 'eve'];
  for (const user of users) await join(cluster.nodes[0]!.port, user);
  await cluster.nodes[0]!.close();
  // Each connection's 'close' handling (its session released, its line
  // logged) comes before the node leaves the cluster, not after.
  const departures = cluster.logLines.filter((l) => l.includes('"event":"disconnect"'));
  expect(departures).toHaveLength(users.length);
});
