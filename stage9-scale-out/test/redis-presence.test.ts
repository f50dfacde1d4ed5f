// Sessions and presence across three nodes on the machine's Redis: one
// session per user for the whole cluster, released only by its owner, join
// and leave events on every other node, /who counting every node, and
// presence events nobody but a node could have sent, each heard once.
import { Redis } from 'ioredis';
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { clusterKeys } from '../src/cluster-keys';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import { encodePresenceEvent } from '../src/presence-event';
import { Progress, TEST_BUS_KEYS, TestNode } from './test-node';

describeWithRedis('presence and sessions across nodes (Redis)', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  let progress: Progress;
  let nodes: [TestNode, TestNode, TestNode];
  let raw: Redis;

  beforeEach(async () => {
    progress = new Progress();
    const ledger = new DeliveryLedger();
    nodes = (await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        TestNode.start(ledger, progress, { redisUrl: url, keyPrefix: prefix, name }),
      ),
    )) as [TestNode, TestNode, TestNode];
    raw = new Redis(url);
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.cluster.close()));
    raw.disconnect();
    await deleteKeys(url, prefix);
  });

  test('a second login of the same user is refused with ALREADY_LOGGED_IN, on any node', async () => {
    const [a, b, c] = nodes;
    await a.cluster.presence.claim('alice', 's1');
    await expect(b.cluster.presence.claim('alice', 's2')).rejects.toMatchObject({
      code: 'ALREADY_LOGGED_IN',
    });
    await expect(a.cluster.presence.claim('alice', 's3')).rejects.toMatchObject({
      code: 'ALREADY_LOGGED_IN',
    });
    await expect(c.cluster.presence.claim('alice', 's1')).rejects.toMatchObject({
      code: 'ALREADY_LOGGED_IN',
    });
    expect(await raw.get(keys.session('alice'))).toBe(`${a.cluster.nodeId} s1`);
  });

  test('concurrent logins of one user on three nodes: exactly one wins, one join is announced', async () => {
    const results = await Promise.allSettled(
      nodes.map((node, i) => node.cluster.presence.claim('bob', `s${i}`)),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ALREADY_LOGGED_IN' });
    }
    const winner = nodes[winners[0]!]!;
    const others = nodes.filter((n) => n !== winner);
    await progress.until(() => others.every((n) => n.events.length === 1));
    for (const n of others) {
      expect(n.events).toEqual([{ kind: 'join', user: 'bob', node: winner.cluster.nodeId }]);
    }
    expect(winner.events).toEqual([]); // a node announces its own members itself
  });

  test('only the owner releases a session; then the user may log in anywhere, and others see the leave', async () => {
    const [a, b, c] = nodes;
    await a.cluster.presence.claim('carol', 'old');
    // Not the owner: another node, or the right node with another session id.
    await b.cluster.presence.release('carol', 'old');
    await a.cluster.presence.release('carol', 'stale');
    expect(await raw.get(keys.session('carol'))).toBe(`${a.cluster.nodeId} old`);
    await expect(c.cluster.presence.claim('carol', 'new')).rejects.toMatchObject({
      code: 'ALREADY_LOGGED_IN',
    });

    await a.cluster.presence.release('carol', 'old');
    await c.cluster.presence.claim('carol', 'new');
    await progress.until(() => b.events.length === 3);
    expect(b.events).toEqual([
      { kind: 'join', user: 'carol', node: a.cluster.nodeId },
      { kind: 'leave', user: 'carol', node: a.cluster.nodeId },
      { kind: 'join', user: 'carol', node: c.cluster.nodeId },
    ]);
  });

  test('/who counts every node exactly and lists 50 names at most, longest online first', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) {
      await nodes[i % 3]!.cluster.presence.claim(name, `s${i}`);
    }
    for (const node of nodes) {
      expect(await node.cluster.presence.who()).toEqual({ count: 60, online: names.slice(0, 50) });
    }
    await nodes[0].cluster.presence.release('u00', 's0');
    expect(await nodes[1].cluster.presence.who()).toEqual({
      count: 59,
      online: names.slice(1, 51),
    });
  });

  test('a node that closes releases its sessions: the others see its users leave at once', async () => {
    const [a, b] = nodes;
    await a.cluster.presence.claim('dave', 's1');
    await a.cluster.presence.claim('erin', 's2');
    await a.cluster.close();
    await progress.until(() => b.events.filter((e) => e.kind === 'leave').length === 2);
    expect(await b.cluster.presence.who()).toEqual({ count: 0, online: [] });
    await b.cluster.presence.claim('dave', 's3');
  });

  test('a forged presence event is refused, and a recorded real one is not heard twice', async () => {
    const [a, b] = nodes;
    const recorder = new Redis(url);
    const recorded: string[] = [];
    recorder.on('message', (_channel: string, message: string) => recorded.push(message));
    await recorder.subscribe(keys.presenceChannel);
    await b.cluster.presence.claim('bob', 's1');
    await progress.until(() => a.events.length === 1 && recorded.length === 1);
    recorder.disconnect();

    // What anyone who can PUBLISH could send before events were signed, the
    // same with a MAC under another key, bob's real join played again, and a
    // real leave recorded before the nodes started.
    const node = b.cluster.nodeId;
    await raw.publish(keys.presenceChannel, `chat-presence/1 leave bob ${node}`);
    const forged = `chat-presence/2 leave bob ${node} ${Date.now()}`;
    await raw.publish(keys.presenceChannel, `${forged} ${'A'.repeat(43)}`);
    await raw.publish(keys.presenceChannel, recorded[0]!);
    // A real leave from 20 s ago, before these nodes started: a recording.
    const before = encodePresenceEvent(
      { kind: 'leave', user: 'bob', node },
      TEST_BUS_KEYS,
      Date.now() - 20_000,
    );
    await raw.publish(keys.presenceChannel, before);
    // A real event after them: once it is heard, they were all handled.
    await b.cluster.presence.claim('carol', 's2');
    await progress.until(() => a.events.some((e) => e.user === 'carol'));

    expect(a.events).toEqual([
      { kind: 'join', user: 'bob', node },
      { kind: 'join', user: 'carol', node },
    ]);
    const refused = a.logs.filter((l) => l.includes('refused'));
    expect(refused[0]).toMatch(/unknown version "chat-presence\/1"/);
  });
});
