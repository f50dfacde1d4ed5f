// The presence scripts that clear up after a dead node and bring it back,
// run one step at a time on the machine's Redis: two reapers announce each
// user's leave once; a node that came back is not reaped; a reaped node's
// quiet heartbeat changes nothing until it is sent again with its joins,
// and the last batch of that heartbeat clears the mark; a late release
// leaves no ghost on the node's list.
import { Redis } from 'ioredis';
import { BusKeys } from '../src/bus-keys';
import { clusterKeys } from '../src/cluster-keys';
import { encodePresenceEvent } from '../src/presence-event';
import { DEAD_NODE, HEARTBEAT, REAP, RELEASE } from '../src/presence-scripts';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';

const busKeys = BusKeys.random();
const DAY_MS = 24 * 60 * 60 * 1000;

describeWithRedis('the presence scripts, step by step (Redis)', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  const node = 'dead~0123abcd';
  let redis: Redis;
  let published: string[];
  let subscriber: Redis;

  const leave = (user: string) =>
    encodePresenceEvent({ kind: 'leave', user, node }, busKeys, Date.now());
  // A node whose heartbeat ran out a second ago, with these users on it.
  const deadNodeWith = async (users: string[]) => {
    await redis.zadd(keys.nodes, Date.now() - 1000, node);
    for (const [i, user] of users.entries()) {
      await redis.zadd(keys.members(node), i, user);
      await redis.set(keys.session(user), `${node} s-${user}`);
    }
  };
  const reap = (users: string[]) =>
    REAP.run(redis, [keys.nodes], [
      prefix, keys.presenceChannel, node, DAY_MS, ...users.flatMap((u) => [u, leave(u)]),
    ]); // prettier-ignore
  // Waits until the subscriber has everything published before this call.
  const drained = async () => {
    const marker = `marker ${published.length}`;
    await redis.publish(keys.presenceChannel, marker);
    while (!published.includes(marker)) await new Promise((r) => subscriber.once('message', r));
    published.splice(published.indexOf(marker), 1);
  };

  beforeEach(async () => {
    redis = new Redis(url);
    subscriber = new Redis(url);
    published = [];
    subscriber.on('message', (_channel: string, message: string) => published.push(message));
    await subscriber.subscribe(keys.presenceChannel);
  });
  afterEach(async () => {
    subscriber.disconnect();
    redis.disconnect();
    await deleteKeys(url, prefix);
  });

  test('two nodes reaping the same dead node at once announce each leave once', async () => {
    await deadNodeWith(['ann', 'ben']);
    // Both find it, with the same users, before either clears them.
    const first = await DEAD_NODE.run(redis, [keys.nodes], [prefix, 500]);
    const second = await DEAD_NODE.run(redis, [keys.nodes], [prefix, 500]);
    expect(first).toEqual([node, 'ann', 'ben']);
    expect(second).toEqual(first);
    expect(await reap(['ann', 'ben'])).toBe(2);
    expect(await reap(['ann', 'ben'])).toBe(0);
    await drained();
    expect(published.map((e) => e.split(' ').slice(1, 4).join(' '))).toEqual([
      `leave ann ${node}`,
      `leave ben ${node}`,
    ]);
    expect(await redis.exists(keys.session('ann'), keys.reaped(node))).toBe(1); // the mark only
    expect(await redis.zscore(keys.nodes, node)).toBeNull(); // nobody left: struck off
    expect(await DEAD_NODE.run(redis, [keys.nodes], [prefix, 500])).toBe(0);
  });

  test('a node that came back after it was found is not reaped', async () => {
    await deadNodeWith(['ann']);
    expect(await DEAD_NODE.run(redis, [keys.nodes], [prefix, 500])).toEqual([node, 'ann']);
    await redis.zadd(keys.nodes, Date.now() + 60_000, node); // its heartbeat got through
    expect(await reap(['ann'])).toBe(0);
    await drained();
    expect(published).toEqual([]);
    expect(await redis.get(keys.session('ann'))).toBe(`${node} s-ann`);
  });

  test('a reaped node: its quiet heartbeat does nothing; sent again with joins, it announces them once and clears the mark', async () => {
    await deadNodeWith(['ann', 'ben']);
    await reap(['ann', 'ben']);
    const beat = (mode: string, users: string[], withJoins: boolean) =>
      HEARTBEAT.run(
        redis,
        [keys.nodes, keys.members(node), keys.reaped(node), ...users.map(keys.session)],
        [
          node, 1000, 3000, keys.presenceChannel, mode,
          ...users.flatMap((u) => [
            `${node} s-${u}`,
            u,
            ...(withJoins ? [encodePresenceEvent({ kind: 'join', user: u, node }, busKeys, Date.now())] : []),
          ]),
        ],
      ); // prettier-ignore
    expect(await beat('quiet', ['ann'], false)).toBe(-1);
    expect(await redis.get(keys.session('ann'))).toBeNull(); // nothing taken back yet
    // Two batches: the first announces, the last also clears the mark.
    expect(await beat('announce', ['ann'], true)).toEqual([]);
    expect(await redis.exists(keys.reaped(node))).toBe(1);
    expect(await beat('last', ['ben'], true)).toEqual([]);
    expect(await redis.exists(keys.reaped(node))).toBe(0);
    // From now on quiet, and nothing more is announced.
    expect(await beat('quiet', ['ann', 'ben'], false)).toEqual([]);
    await drained();
    expect(published.map((e) => e.split(' ').slice(1, 3).join(' '))).toEqual([
      'leave ann',
      'leave ben',
      'join ann',
      'join ben',
    ]);
    expect(await redis.get(keys.session('ben'))).toBe(`${node} s-ben`);
  });

  test('a release retried after the user logged in elsewhere takes them off this node quietly', async () => {
    const release = (owner: string) =>
      RELEASE.run(redis, [keys.session('ann'), keys.members(node)], [
        owner, 'ann', keys.presenceChannel, leave('ann'),
      ]); // prettier-ignore
    // ann's release on this node could not reach Redis; she logged in on
    // another node meanwhile, and this node's list still has her.
    await redis.zadd(keys.members(node), 1, 'ann');
    await redis.set(keys.session('ann'), 'other~0123abcd s-2');
    expect(await release(`${node} s-1`)).toBe(0);
    expect(await redis.zscore(keys.members(node), 'ann')).toBeNull(); // before: still listed
    expect(await redis.get(keys.session('ann'))).toBe('other~0123abcd s-2');
    // A newer session of hers on this same node is not touched.
    await redis.zadd(keys.members(node), 2, 'ann');
    await redis.set(keys.session('ann'), `${node} s-3`);
    expect(await release(`${node} s-1`)).toBe(0);
    expect(await redis.zscore(keys.members(node), 'ann')).toBe('2');
    await drained();
    expect(published).toEqual([]); // she never left the room
  });
});
