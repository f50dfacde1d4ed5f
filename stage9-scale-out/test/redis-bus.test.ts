// Three nodes in one process, on the machine's Redis, each with members:
// room frames reach every member of every node exactly once, in each
// sender's order (the soak's delivery ledger checks it), directed frames
// reach only their recipient's node, and repeats and forgeries on the bus
// are dropped.
import { Redis } from 'ioredis';
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { decodeEnvelope, encodeEnvelope } from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';
import { clusterKeys, makeNodeId } from '../src/cluster-keys';
import { RedisBus } from '../src/redis-bus';
import { RedisClock } from '../src/redis-clock';
import { RedisLink } from '../src/redis-link';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import { Progress, TEST_BUS_KEYS, TestNode } from './test-node';

describeWithRedis('the Redis bus (3 nodes in one process)', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  let ledger: DeliveryLedger;
  let progress: Progress;
  let nodes: TestNode[];
  let raw: Redis;

  beforeEach(async () => {
    ledger = new DeliveryLedger();
    progress = new Progress();
    nodes = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        TestNode.start(ledger, progress, { redisUrl: url, keyPrefix: prefix, name }),
      ),
    );
    raw = new Redis(url);
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.cluster.close()));
    raw.disconnect();
    await deleteKeys(url, prefix);
  });

  test('every member of every node gets each room frame exactly once, in the sender’s order', async () => {
    const members = nodes.flatMap((node, n) =>
      [1, 2, 3].map((m) => {
        const id = `n${n}m${m}`;
        node.join(id);
        return { node, id };
      }),
    );
    // Interleaved senders on all three nodes, 40 messages each, no awaiting:
    // publishes leave in call order.
    for (let round = 0; round < 40; round++) {
      for (const { node, id } of members) node.send(id);
    }
    const owed = ledger.sentCount * (members.length - 1);
    await progress.until(() => progress.receipts >= owed);

    const verdict = ledger.verify(members.map((m) => m.id));
    expect(verdict.examples).toEqual([]);
    expect(verdict.problems.size).toBe(0);
    expect(verdict.received).toBe(owed);
    expect(verdict.owedAtEnd).toBe(owed);
    for (const node of nodes) expect(node.cluster.relay.missed).toBe(0);
  });

  test('a repeated envelope (a resent PUBLISH) is delivered once; a forged one never', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    a.join('alice');
    b.join('bob');
    a.send('alice'); // alice 1
    await progress.until(() => progress.receipts === 1);

    // The same envelope again, as a client resending after a reconnect would.
    const again = encodeEnvelope(
      {
        kind: 'room',
        origin: a.cluster.nodeId,
        seq: 1,
        from: 'alice',
        frame: Buffer.from('alice 1\n'),
      },
      TEST_BUS_KEYS,
      Date.now(),
    );
    await raw.publish(keys.roomChannel, again);
    // Bytes that are not an envelope: refused and counted, never delivered.
    await raw.publish(keys.roomChannel, 'chat-bus/2 room nobody 1 mallory -\nalice 99\n');
    a.send('alice'); // alice 2: once it is in, everything before it was handled
    await progress.until(() => progress.receipts === 2);

    // bob's node has read past the garbage; the other two read the channel at
    // their own pace, so wait for each to log it rather than assume.
    const malformed = (n: TestNode) => n.logs.some((l) => l.includes('malformed'));
    await progress.until(() => nodes.every(malformed));

    const verdict = ledger.verify(['alice', 'bob']);
    expect(verdict.problems.size).toBe(0);
    expect(verdict.received).toBe(2);
    expect(nodes.map((n) => n.logs.filter((l) => l.includes('malformed')).length)).toEqual([
      1, 1, 1,
    ]);
  });

  test("a forged envelope with a live node's origin and a huge number mutes nothing", async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    a.join('alice');
    b.join('bob');
    a.send('alice'); // alice 1
    await progress.until(() => progress.receipts === 1);
    // Signed, but not with the cluster's key: what anyone with PUBLISH can
    // make. Under chat-bus/1 (no MAC) it was delivered, and every node then
    // dropped alice's node's real envelopes as repeats.
    const forged = encodeEnvelope(
      {
        kind: 'room',
        origin: a.cluster.nodeId,
        seq: Number.MAX_SAFE_INTEGER,
        from: 'alice',
        frame: Buffer.from('forged\n'),
      },
      BusKeys.random(),
      Date.now(),
    );
    await raw.publish(keys.roomChannel, forged);
    a.send('alice'); // alice 2, and then 3: still delivered to bob
    a.send('alice');
    await progress.until(() => progress.receipts === 3);
    expect(b.arrivals.some((line) => line.includes('forged'))).toBe(false);
    const refused = (n: TestNode) => n.logs.some((l) => l.includes('MAC does not check'));
    await progress.until(() => nodes.every(refused));
  });

  // What an eavesdropper on the Redis link recorded, from a node run long
  // gone: signed with the cluster's key, so the MAC checks, and from an
  // origin no node has heard, so the numbering cannot tell.
  test.each([
    // Before envelopes carried their time, it was delivered as new.
    ['an hour ago', 3_600_000, 'too old'],
    // Under a minute old, but before any of these nodes started: before nodes
    // knew when they joined, every one delivered it.
    ['20 s ago, before the nodes started', 20_000, 'before this node joined'],
  ])('a recording from %s, replayed, is refused by every node', async (_when, age, reason) => {
    nodes[0]!.join('alice');
    const recording = encodeEnvelope(
      {
        kind: 'room',
        origin: makeNodeId('gone'),
        seq: 7,
        from: 'alice',
        frame: Buffer.from('alice 7\n'),
      },
      TEST_BUS_KEYS,
      Date.now() - age,
    );
    await raw.publish(keys.roomChannel, recording);
    const refused = (n: TestNode) => n.logs.some((l) => l.includes(reason));
    await progress.until(() => nodes.every((n) => refused(n) || n.arrivals.length > 0));
    expect(nodes.flatMap((n) => n.arrivals)).toEqual([]);
    expect(nodes.every(refused)).toBe(true);
  });

  test('a directed frame reaches only its recipient, on the node that holds them', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    a.join('alice');
    c.join('carol');
    b.join('bob');
    await c.cluster.presence.claim('carol', 's1');
    await b.cluster.presence.claim('bob', 's2');

    expect(await a.cluster.bus.sendDirect('alice', 'carol', Buffer.from('box for carol\n'))).toBe(
      'sent',
    );
    expect(await a.cluster.bus.sendDirect('alice', 'bob', Buffer.from('box for bob\n'))).toBe(
      'sent',
    );
    expect(await a.cluster.bus.sendDirect('alice', 'nobody', Buffer.from('lost\n'))).toBe(
      'offline',
    );
    await progress.until(() => c.direct.size === 1 && b.direct.size === 1);
    expect(c.direct.get('carol')).toEqual(['box for carol']);
    expect(b.direct.get('bob')).toEqual(['box for bob']);
    expect(a.direct.size).toBe(0);
  });

  test('per-sender order holds across room and directed frames (a key box arrives before the message it seals)', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    a.join('alice');
    b.join('bob');
    await b.cluster.presence.claim('bob', 's1');
    // Not awaited: a directed frame goes out in call order with room frames.
    for (let i = 1; i <= 20; i++) {
      void a.cluster.bus.sendDirect('alice', 'bob', Buffer.from(`key ${i}\n`));
      a.send('alice');
    }
    await progress.until(() => b.arrivals.length === 40);
    const expected = Array.from({ length: 20 }, (_, i) => [
      `direct bob key ${i + 1}`,
      `room alice ${i + 1}`,
    ]).flat();
    expect(b.arrivals).toEqual(expected);
  });
});

describeWithRedis('the Redis bus, one turn of publishes', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  let link: RedisLink;
  let raw: Redis;

  afterEach(async () => {
    await link.close();
    raw.disconnect();
    await deleteKeys(url, prefix);
  });

  test('leaves in one write at the end of the turn, in call order', async () => {
    const nodeId = makeNodeId('batch');
    link = new RedisLink({ url, nodeId });
    const listener = { envelope: () => {}, presence: () => {} };
    const bus = new RedisBus(link, keys, nodeId, listener, {
      busKeys: TEST_BUS_KEYS,
      clock: new RedisClock(), // this machine's: the test publishes, and reads, here
    });
    await link.start();
    raw = new Redis(url);
    const heard: number[] = [];
    let all: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (all = resolve));
    raw.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      heard.push(decodeEnvelope(message, TEST_BUS_KEYS).seq);
      if (heard.length === 30) all();
    });
    await raw.subscribe(keys.roomChannel);

    for (let i = 1; i <= 30; i++) bus.publishRoom('alice', Buffer.from(`line ${i}\n`));
    // Held for the rest of this turn: thirty PUBLISH commands, one write.
    expect(link.cmd.stream.writableCorked).toBe(1);
    expect(link.cmd.stream.writableLength).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(link.cmd.stream.writableCorked).toBe(0);
    await arrived;
    expect(heard).toEqual(Array.from({ length: 30 }, (_v, i) => i + 1));
  });
});
