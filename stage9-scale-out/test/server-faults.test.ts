// Stage 9 nodes when Redis goes away and comes back, on a redis-server of
// the test's own (never the machine's): members are told the room is split,
// each node keeps serving its own members, logs it once, and rejoins by
// itself; the members are told, and chat crosses nodes again.
// And a node cut off by a silent partition (a proxy that stops forwarding):
// its user, logged in again elsewhere meanwhile, loses the old session.
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { startOwnRedis, type OwnRedis } from './own-redis';
import { describeWithRedis } from './redis-env';
import { chatFrom, join, startCluster, type Client, type TestCluster } from './server-harness';

const errorCode = (code: string) => (f: { type: string; code?: string }) =>
  f.type === 'error' && f.code === code;

describeWithRedis(
  'stage 9 nodes when Redis fails (own redis-server)',
  () => {
    let redis: OwnRedis;
    let cluster: TestCluster | undefined;
    let proxy: TcpProxy | undefined;
    beforeAll(async () => {
      redis = await startOwnRedis();
    });
    afterEach(async () => {
      await cluster?.close();
      cluster = undefined;
      await proxy?.close();
      proxy = undefined;
    });
    afterAll(async () => {
      await redis.stop();
    });

    // Two nodes, the first reaching Redis through a proxy the test can pause
    // (a silent partition) and the second directly; X's and Y's ports.
    const startCutOffPair = async (keyPrefix: string, sessionTtlMs: number) => {
      const link = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
      proxy = link;
      cluster = await startCluster(
        2,
        { keyPrefix, heartbeatMs: 200, sessionTtlMs, redisCommandTimeoutMs: 500 },
        (i) => ({ redisUrl: i === 0 ? `redis://127.0.0.1:${link.port}` : redis.url }),
      );
      const [x, y] = cluster.nodes.map((n) => n.port) as [number, number];
      return { link, x, y };
    };

    test('split: each node serves its own members and says so once; rejoined: the room is whole again', async () => {
      cluster = await startCluster(2, {
        redisUrl: redis.url,
        keyPrefix: 'split:',
        heartbeatMs: 200,
        sessionTtlMs: 1_000,
      });
      const [a, b] = cluster.nodes.map((n) => n.port);
      const alice = await join(a!, 'alice');
      const carol = await join(a!, 'carol');
      const bob = await join(b!, 'bob');
      alice.send({ type: 'chat', text: 'before' });
      await bob.waitFor((f) => f.type === 'chat' && f.text === 'before');

      await redis.stop();
      const everyone: Client[] = [alice, carol, bob];
      await Promise.all(everyone.map((c) => c.waitFor(errorCode('ROOM_SPLIT'))));
      expect(cluster.nodes.map((n) => n.clusterState)).toEqual(['split', 'split']);
      // Still a room on each node: carol hears alice; bob cannot.
      alice.send({ type: 'chat', text: 'during' });
      await carol.waitFor((f) => f.type === 'chat' && f.text === 'during');
      // No login the cluster cannot vouch for.
      await expect(join(b!, 'dave')).rejects.toThrow('SERVICE_UNAVAILABLE');

      await redis.restart();
      await Promise.all(everyone.map((c) => c.waitFor(errorCode('ROOM_REJOINED'))));
      alice.send({ type: 'chat', text: 'after' });
      bob.send({ type: 'chat', text: 'bob is back' });
      await bob.waitFor((f) => f.type === 'chat' && f.text === 'after');
      await carol.waitFor((f) => f.type === 'chat' && f.text === 'bob is back');
      expect(chatFrom(bob, 'alice')).toEqual(['before', 'after']);
      // And bob is told that one of alice's lines ('during') never came.
      expect(bob.frames.find(errorCode('MESSAGES_LOST'))).toMatchObject({
        message: expect.stringMatching(/^1 message /),
      });
      // Nobody left, so nobody is announced as arriving: Redis lost its
      // state, not the room its members.
      for (const c of everyone) {
        const rejoined = c.frames.findIndex(errorCode('ROOM_REJOINED'));
        expect(c.frames.slice(rejoined).filter((f) => f.type === 'joined')).toEqual([]);
      }
      // Redis restarted empty; the nodes registered their sessions again.
      bob.send({ type: 'who' });
      expect(await bob.waitFor((f) => f.type === 'who')).toMatchObject({ count: 3 });
      await expect(join(a!, 'bob', 'login')).rejects.toThrow('ALREADY_LOGGED_IN');
      // One log line per node for the split, one for the rejoin.
      const lines = cluster.logLines.filter((l) => l.includes('"event":"cluster"'));
      expect(lines.filter((l) => l.includes('split:'))).toHaveLength(2);
      expect(lines.filter((l) => l.includes('rejoined the cluster'))).toHaveLength(2);
    });

    test('a node cut off silently: its user is cleared after the TTL, logs in on another node, and on rejoin the old session ends with LOGGED_IN_ELSEWHERE', async () => {
      const { link, x, y } = await startCutOffPair('lost:', 1_000);
      const alice = await join(x, 'alice');
      const bob = await join(y, 'bob');
      await alice.waitFor((f) => f.type === 'joined');

      link.pause(); // no reset, no bytes: only the heartbeat's timeout can tell
      await alice.waitFor(errorCode('ROOM_SPLIT'));
      expect(await bob.waitFor((f) => f.type === 'left')).toMatchObject({ who: 'alice' });
      const elsewhere = await join(y, 'alice', 'login');

      link.resume();
      expect(
        await alice.waitFor((f) => f.type === 'error' && f.code !== 'ROOM_SPLIT'),
      ).toMatchObject({
        code: 'LOGGED_IN_ELSEWHERE',
      });
      await alice.closed;
      elsewhere.send({ type: 'who' });
      expect(await elsewhere.waitFor((f) => f.type === 'who')).toMatchObject({ count: 2 });
    });

    test('messages lost while another node was cut off: its members are told how many, before what follows', async () => {
      // A long TTL: the cut is short, and nobody is cleared away.
      const { link, x, y } = await startCutOffPair('gap:', 10_000);
      const alice = await join(x, 'alice');
      const carol = await join(x, 'carol'); // hears what alice says on her node
      const bob = await join(y, 'bob');
      alice.send({ type: 'chat', text: 'before' });
      await bob.waitFor((f) => f.type === 'chat' && f.text === 'before');

      link.pause();
      await alice.waitFor(errorCode('ROOM_SPLIT'));
      alice.send({ type: 'chat', text: 'lost 1' });
      alice.send({ type: 'chat', text: 'lost 2' });
      await carol.waitFor((f) => f.type === 'chat' && f.text === 'lost 2');
      link.resume();
      await alice.waitFor(errorCode('ROOM_REJOINED'));
      alice.send({ type: 'chat', text: 'after' });
      await bob.waitFor((f) => f.type === 'chat' && f.text === 'after');

      // bob's node was never split: without this notice, nothing would tell
      // him there is a hole between 'before' and 'after'.
      const frames = bob.frames.filter((f) => f.type === 'chat' || f.type === 'error');
      expect(frames.map((f) => (f.type === 'chat' ? f.text : f.code))).toEqual([
        'before',
        'MESSAGES_LOST',
        'after',
      ]);
      expect(frames[1]).toMatchObject({ message: expect.stringMatching(/^2 messages /) });
    });

    test('a node cut off silently and cleared away: when it comes back, its users are announced again', async () => {
      const { link, x, y } = await startCutOffPair('back:', 1_000);
      const alice = await join(x, 'alice');
      const bob = await join(y, 'bob');
      await alice.waitFor((f) => f.type === 'joined');

      link.pause();
      expect(await bob.waitFor((f) => f.type === 'left')).toMatchObject({ who: 'alice' });
      link.resume();
      // bob heard alice leave, so he hears her come back (the reap marked
      // her node). bob joined after alice: this is his first `joined` for her.
      await bob.waitFor((f) => f.type === 'joined' && f.who === 'alice');
      await alice.waitFor(errorCode('ROOM_REJOINED'));
    });
  },
  { ownServer: true },
);
