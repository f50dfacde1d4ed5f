// The in-process cluster (the default, no Redis): the same contract as the
// Redis bus, checked the same way, so a node cannot tell the two apart.
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { LocalCluster } from '../src/local-cluster';
import { Progress, TestNode } from './test-node';

let ledger: DeliveryLedger;
let progress: Progress;
let nodes: [TestNode, TestNode, TestNode];

beforeEach(async () => {
  ledger = new DeliveryLedger();
  progress = new Progress();
  const localCluster = new LocalCluster();
  nodes = (await Promise.all(
    ['a', 'b', 'c'].map((name) => TestNode.start(ledger, progress, { localCluster, name })),
  )) as [TestNode, TestNode, TestNode];
});

test('one node alone: publishing is harmless, and it owns the whole room', async () => {
  const progressAlone = new Progress();
  const alone = await TestNode.start(new DeliveryLedger(), progressAlone, {});
  alone.join('solo');
  expect(alone.send('solo')).toBe(true);
  await alone.cluster.presence.claim('solo', 's1');
  expect(await alone.cluster.presence.who()).toEqual({ count: 1, online: ['solo'] });
  expect(alone.cluster.loginPermits).toBeUndefined(); // stage 6's limiter serves one process
  await alone.cluster.close();
});

test('exactly once, in order, to every member of every node', async () => {
  const members = nodes.flatMap((node, n) => [1, 2].map((m) => ({ node, id: `n${n}m${m}` })));
  for (const { node, id } of members) node.join(id);
  for (let round = 0; round < 20; round++) for (const { node, id } of members) node.send(id);
  const owed = ledger.sentCount * (members.length - 1);
  await progress.until(() => progress.receipts >= owed);
  const verdict = ledger.verify(members.map((m) => m.id));
  expect(verdict.examples).toEqual([]);
  expect(verdict.received).toBe(owed);
});

test('sessions: one per user, owner-only release, events to the other nodes, directed frames', async () => {
  const [a, b, c] = nodes;
  a.join('alice');
  await a.cluster.presence.claim('alice', 's1');
  await expect(b.cluster.presence.claim('alice', 's2')).rejects.toMatchObject({
    code: 'ALREADY_LOGGED_IN',
  });
  await b.cluster.presence.release('alice', 's1'); // not b's session
  expect((await c.cluster.presence.who()).count).toBe(1);
  expect(await c.cluster.bus.sendDirect('carol', 'alice', Buffer.from('box\n'))).toBe('sent');
  expect(await c.cluster.bus.sendDirect('carol', 'nobody', Buffer.from('box\n'))).toBe('offline');
  await progress.until(() => a.direct.size === 1);
  expect(a.direct.get('alice')).toEqual(['box']);

  await a.cluster.presence.release('alice', 's1');
  await progress.until(() => c.events.length === 2);
  expect(c.events.map((e) => e.kind)).toEqual(['join', 'leave']);
  expect(a.events).toEqual([]);
  await b.cluster.presence.claim('alice', 's2');
});

test('a user who comes and goes twice in one millisecond is announced four times, and no node crashes', async () => {
  const [a, b] = nodes;
  // One frozen millisecond: the same kind, user, node and time each time.
  // Before events carried a nonce, the second join was the first one's twin,
  // refused as a repeat by a throw nothing caught: the process exited.
  jest.useFakeTimers({
    now: Date.now(),
    doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
  });
  try {
    for (const session of ['s1', 's2']) {
      await a.cluster.presence.claim('bob', session);
      await a.cluster.presence.release('bob', session);
    }
  } finally {
    jest.useRealTimers();
  }
  await progress.until(() => b.events.length === 4);
  expect(b.events.map((e) => e.kind)).toEqual(['join', 'leave', 'join', 'leave']);
});
