// Faults, in-process nodes, on a redis-server of the test's own (never the
// machine's): Redis stopped and restarted during traffic, a node cut off by
// a silent partition while its user logs in elsewhere, and a node that falls
// behind its inbound queue. Nodes run with short timings (heartbeat 200 ms,
// TTL 1 s); the tests wait for events and bounded polls, never fixed sleeps.
import { Redis } from 'ioredis';
import { DeliveryLedger, type DeliveryProblem } from '../../soak/delivery-ledger';
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { clusterKeys } from '../src/cluster-keys';
import type { ClusterNodeOptions } from '../src/cluster-node';
import type { RedisLoginPermits } from '../src/redis-login-permits';
import { startOwnRedis, type OwnRedis } from './own-redis';
import { describeWithRedis } from './redis-env';
import { Progress, TestNode } from './test-node';

const FAST = { heartbeatMs: 200, ttlMs: 1_000, commandTimeoutMs: 500 };

/** Problems other than losses: a split may lose messages, never duplicate or reorder them. */
function corruptions(ledger: DeliveryLedger, present: string[]): [DeliveryProblem, number][] {
  return [...ledger.verify(present).problems].filter(([kind]) => !kind.startsWith('lost'));
}

describeWithRedis(
  'faults (own redis-server)',
  () => {
    let redis: OwnRedis;
    let ledger: DeliveryLedger;
    let progress: Progress;
    const started: TestNode[] = [];
    let proxy: TcpProxy | undefined;

    const start = async (name: string, options: Partial<ClusterNodeOptions> = {}) => {
      const node = await TestNode.start(ledger, progress, {
        redisUrl: redis.url,
        keyPrefix: 'fault:',
        name,
        ...FAST,
        ...options,
      });
      started.push(node);
      return node;
    };

    beforeEach(async () => {
      redis = await startOwnRedis();
      ledger = new DeliveryLedger();
      progress = new Progress();
    });

    afterEach(async () => {
      await Promise.all(started.splice(0).map((node) => node.cluster.close()));
      await proxy?.close();
      proxy = undefined;
      await redis.stop();
    });

    test('Redis stops during traffic: nodes keep their own members, report the split once, and rejoin when it returns', async () => {
      const [a, b, c] = [await start('a'), await start('b'), await start('c')];
      for (const [node, ids] of [
        [a, ['a1', 'a2']],
        [b, ['b1', 'b2']],
        [c, ['c1']],
      ] as const) {
        for (const id of ids) {
          node.join(id);
          await node.cluster.presence.claim(id, `s-${id}`);
        }
      }
      // b must have heard from a before the split: a gap is counted against the
      // last number seen from an origin, and the burst below may never reach
      // Redis (its publishes leave at the end of the turn, after SIGTERM).
      a.send('a1');
      await progress.until(() => b.arrivals.includes('room a1 1'));
      // Traffic from three senders; Redis stops with publishes in flight.
      for (let i = 0; i < 100; i++)
        for (const [n, id] of [
          [a, 'a1'],
          [b, 'b1'],
          [c, 'c1'],
        ] as const)
          n.send(id);
      await redis.stop();
      await progress.until(() => started.every((n) => n.states.includes('split')));

      // Split: each node still serves its own members; nothing crosses.
      const before = progress.receipts;
      for (let i = 0; i < 5; i++) expect(a.send('a1')).toBe(false);
      expect(progress.receipts - before).toBe(5); // a2 got all five
      await expect(b.cluster.presence.claim('newcomer', 's-new')).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });

      // Redis comes back empty; every node rejoins and re-registers its users.
      await redis.restart();
      await progress.until(() => started.every((n) => n.states.length === 2));
      for (const node of started) {
        expect(node.states).toEqual(['split', 'joined']);
        expect(node.logs.filter((l) => l.startsWith('split:'))).toHaveLength(1);
        expect(node.logs.filter((l) => l.startsWith('rejoined'))).toHaveLength(1);
      }
      expect(await c.cluster.presence.who()).toMatchObject({ count: 5 });

      // Chat crosses again; b counts the five it missed (and any in flight at the stop).
      const missedBefore = b.cluster.relay.missed;
      a.send('a1');
      await progress.until(() => b.arrivals.includes('room a1 107')); // 1 + 100 + 5 during the split + 1
      expect(b.cluster.relay.missed).toBeGreaterThanOrEqual(missedBefore + 5);
      expect(corruptions(ledger, ['a1', 'a2', 'b1', 'b2', 'c1'])).toEqual([]);
    });

    test('a node cut off by a silent partition: the others clear its users after the TTL, one logs in elsewhere, and on rejoin that session is ended there', async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
      const x = await start('x', { redisUrl: `redis://127.0.0.1:${proxy.port}` });
      const y = await start('y');
      x.join('xena');
      x.join('xavier');
      await x.cluster.presence.claim('xena', 's-xena');
      await x.cluster.presence.claim('xavier', 's-xavier');
      await progress.until(() => y.events.length === 2);

      proxy.pause(); // no reset, no bytes: only the heartbeat's timeout can tell
      await progress.until(() => x.states.includes('split'));
      await progress.until(() => y.events.filter((e) => e.kind === 'leave').length === 2);
      expect(await y.cluster.presence.who()).toEqual({ count: 0, online: [] });
      await y.cluster.presence.claim('xena', 's-elsewhere'); // at once, after the clean-up

      proxy.resume();
      await progress.until(() => x.states.at(-1) === 'joined');
      expect(x.lost).toEqual(['xena']);
      // xavier was re-registered (and announced again); xena stays on y.
      await progress.until(() => y.events.length === 5);
      expect(y.events.at(-1)).toEqual({ kind: 'join', user: 'xavier', node: x.cluster.nodeId });
      const who = await y.cluster.presence.who();
      expect(who.count).toBe(2);
      expect(new Set(who.online)).toEqual(new Set(['xena', 'xavier']));
      // Announced once: the heartbeat that did it cleared the reap's mark.
      const raw = new Redis(redis.url);
      const marked = await raw.exists(clusterKeys('fault:').reaped(x.cluster.nodeId));
      raw.disconnect();
      expect(marked).toBe(0);
    });

    test('a node whose inbound queue overflows drops it, reports a split and rejoins; the others lose nothing', async () => {
      const a = await start('a');
      const b = await start('b');
      const slow = await start('slow', { inbound: { maxMessages: 20 } });
      a.join('alice');
      b.join('bob');
      slow.join('sam');
      a.send('alice');
      await progress.until(() => slow.arrivals.length === 1);
      // One burst: the slow node's client parses many messages per read, far
      // more than its queue holds.
      for (let i = 0; i < 2_000; i++) a.send('alice');
      await progress.until(() => slow.states.includes('split'));
      await progress.until(() => slow.states.at(-1) === 'joined');
      expect(slow.logs.some((l) => l.includes('fell behind'))).toBe(true);

      a.send('alice'); // 2002: bob gets everything; sam gets it, and counts what he missed
      await progress.until(() => b.arrivals.length === 2_002);
      await progress.until(() => slow.arrivals.at(-1) === 'room alice 2002');
      expect(slow.cluster.relay.missed).toBeGreaterThan(0);
      expect(b.arrivals).toEqual(Array.from({ length: 2_002 }, (_, i) => `room alice ${i + 1}`));
      expect(corruptions(ledger, ['bob', 'sam'])).toEqual([]);
    });

    // Redis still answers PING and PUBLISH but refuses every write (out of
    // memory here; a read-only replica after a failover gone wrong answers
    // READONLY the same way). Before, the nodes stayed "joined" while every
    // session expired: /who said 0 online, logins were refused as "the room
    // is split", and members were never told.
    test('Redis refusing writes is a split: nodes say so, and rejoin once writes are allowed', async () => {
      const a = await start('a');
      const b = await start('b');
      a.join('alice');
      await a.cluster.presence.claim('alice', 's-alice');
      b.join('bob');
      await b.cluster.presence.claim('bob', 's-bob');
      const admin = new Redis(redis.url);
      try {
        await admin.config('SET', 'maxmemory', '1'); // with noeviction: every write is refused
        await progress.until(() => a.states.includes('split') && b.states.includes('split'));
        expect(a.logs.some((l) => /split: Redis refuses the heartbeat \(OOM/.test(l))).toBe(true);
        await admin.config('SET', 'maxmemory', '0');
        await progress.until(() => a.states.length === 2 && b.states.length === 2);
        expect([a.states, b.states]).toEqual([
          ['split', 'joined'],
          ['split', 'joined'],
        ]);
        expect(await a.cluster.presence.who()).toMatchObject({ count: 2 });
      } finally {
        admin.disconnect();
      }
    });

    // Not every refusal is a split: the rejoin does not reap, so a beat
    // that failed only in its reap would rejoin at once and split again at
    // the next beat (a key of the wrong type left under the prefix had
    // every node split and rejoin every other beat, telling its members
    // each time). Nor may it stop the rest of the beat: the logins to
    // settle come after it.
    test("a dead node's keys that cannot be reaped are logged, not a split, and the beat goes on", async () => {
      const admin = new Redis(redis.url);
      try {
        await admin.zadd('fault:nodes', 1, 'ghost'); // a dead node, to be reaped...
        await admin.set('fault:members:ghost', 'x'); // ...whose members key is not a zset
        const a = await start('a');
        // The hooks after the reap still run: count the login settlements.
        let settles = 0;
        const permits = a.cluster.loginPermits as RedisLoginPermits;
        const settlePending = permits.settlePending.bind(permits);
        permits.settlePending = () => {
          settles++;
          progress.changed();
          return settlePending();
        };
        await progress.until(() => a.logs.some((l) => l.includes('WRONGTYPE')) && settles >= 2);
        expect(a.logs.filter((l) => l.includes('WRONGTYPE'))).toEqual([
          expect.stringMatching(/^heartbeat failed: reaping dead nodes: WRONGTYPE/),
        ]);
        expect(a.states).toEqual([]);
      } finally {
        admin.disconnect();
      }
    });

    test('a login Redis ran after the node stopped waiting leaves no ghost: the node releases it', async () => {
      // A slow heartbeat, so that none falls inside the pause below (one
      // that timed out would drop the connection, and the claim with it).
      const x = await start('x', { heartbeatMs: 5_000, ttlMs: 15_000 });
      const keys = clusterKeys('fault:');
      const listener = new Redis(redis.url);
      const events: string[] = [];
      listener.on('message', (_c: string, m: string) =>
        events.push(m.split(' ').slice(1, 3).join(' ')),
      );
      // Bob comes and goes first: Redis now knows the claim script by its
      // digest (a fresh Redis would answer NOSCRIPT once the pause is over).
      await x.cluster.presence.claim('bob', 's0');
      await x.cluster.presence.release('bob', 's0');
      await listener.subscribe(keys.presenceChannel);
      // Redis holds every write for 700 ms: x's claim waits in line, x stops
      // waiting after 500 ms (SERVICE_UNAVAILABLE), then Redis runs it: alice
      // has a session, a place on x's list, and the room heard her join.
      const admin = new Redis(redis.url);
      await admin.call('CLIENT', 'PAUSE', '700', 'WRITE');
      await expect(x.cluster.presence.claim('alice', 's1')).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
      try {
        // x's next heartbeat releases what it could not know had run. Before,
        // nothing did: alice stayed on x's list (counted by /who) as long as
        // x lived, and the room never heard her leave.
        await new Promise<void>((resolve) => {
          const check = () =>
            events.includes('leave alice') ? resolve() : listener.once('message', check);
          check();
        });
        expect(events).toEqual(['join alice', 'leave alice']);
        expect(await admin.zscore(keys.members(x.cluster.nodeId), 'alice')).toBeNull();
        expect(await admin.exists(keys.session('alice'))).toBe(0);
      } finally {
        admin.disconnect();
        listener.disconnect();
      }
    });
  },
  { ownServer: true },
);
