// A login's permit settled while Redis cannot be reached. Before, the
// settlement was dropped: the attempt's marker stayed for its whole lease,
// and after a two-second blip during a login the user's next attempts were
// refused "already in progress" for a dozen seconds, tokens and all (a
// reviewer reproduced it on a real node). Now the settlement is kept and sent
// again once Redis is back (the node does it on its next heartbeat), and a
// settlement that reaches Redis twice (the first reply lost on the way back)
// gives its tokens back once. Against the real Redis, through a TCP proxy
// the test cuts and holds.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { clusterKeys } from '../src/cluster-keys';
import { RedisLoginPermits, type LoginPermit } from '../src/redis-login-permits';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';

describeWithRedis('login permits settled while Redis is away', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  const IP = '10.0.0.1';
  const clock = 1_000_000; // the buckets' clock, fixed: no refill during a test
  let proxy: TcpProxy;
  let node: Redis; // the node's connection, through the proxy
  let direct: Redis; // the test's own look into Redis
  let permits: RedisLoginPermits;

  beforeEach(async () => {
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    node = new Redis(`redis://127.0.0.1:${proxy.port}`, {
      enableOfflineQueue: false, // as the node's link: no command waits for a reconnect
      commandTimeout: 500,
      retryStrategy: () => 20,
    });
    node.on('error', () => {});
    await once(node, 'ready');
    direct = new Redis(url);
    permits = new RedisLoginPermits(node, keys, { now: () => clock });
  });

  afterEach(async () => {
    node.disconnect();
    direct.disconnect();
    await proxy.close();
    await deleteKeys(url, prefix);
  });

  const tokens = async (key: string) => Number(await direct.hget(key, 'tokens'));
  const busy = () => direct.exists(keys.loginBusy('alice', IP));

  test.each(['succeeded', 'cancelled'] as const)(
    '%s during a blip: sent again once Redis is back, and the next login is not refused',
    async (outcome) => {
      const permit = await permits.acquire(IP, 'alice');
      proxy.stop(); // every connection reset: the settlement cannot be sent
      await expect(permit[outcome]()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(await busy()).toBe(1); // the marker outlives the blip
      proxy.resume();
      await once(node, 'ready');
      await permits.settlePending();
      expect(await busy()).toBe(0);
      expect(await direct.exists(keys.loginIp(IP))).toBe(0); // its token back: full again
      const next = await permits.acquire(IP, 'alice'); // before: "already in progress"
      await next.succeeded();
    },
  );

  test.each(['succeeded', 'cancelled'] as const)(
    '%s reached Redis but lost its reply: the tokens come back once',
    async (outcome) => {
      // A failed guess at another user from this address first, so that one
      // refund leaves a trace: 20 tokens, two taken, one given back, 19 (two
      // refunds would be 20, a full bucket, which is deleted).
      const guess = await permits.acquire(IP, 'bob');
      await guess.failed();
      const permit: LoginPermit = await permits.acquire(IP, 'alice');
      expect(await tokens(keys.loginIp(IP))).toBe(18);
      proxy.pause(); // the script waits in the proxy; the node stops waiting
      await expect(permit[outcome]()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      proxy.resume(); // ...and now it runs, its reply unread
      await permits.settlePending(); // sent again: it must change nothing
      expect(await busy()).toBe(0);
      expect(await tokens(keys.loginIp(IP))).toBe(19);
    },
  );
});
