// `who` asks Redis (the `who` script, on the Redis every node shares), so
// one look-up at a time per connection, as stage 8 limits `keys`: a `who`
// sent while this connection's look-up is still open is answered
// RATE_LIMITED, and counts against the connection's error budget. Without
// the permit, four clients sending `who` in a tight loop drove Redis to
// about 81,000 script calls a second. Real nodes on port 0, the machine's
// Redis, the script observed in this process (no MONITOR).
import { WHO } from '../src/presence-scripts';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import { chatFrom, join, startCluster, type Client, type TestCluster } from './server-harness';

/** Counts `who` script calls and the most that were ever open at once. */
function watchWho() {
  const original = WHO.run.bind(WHO);
  const seen = { calls: 0, open: 0, mostOpen: 0 };
  const spy = jest.spyOn(WHO, 'run').mockImplementation(async (...args) => {
    seen.calls++;
    seen.mostOpen = Math.max(seen.mostOpen, ++seen.open);
    try {
      return await original(...args);
    } finally {
      seen.open--;
    }
  });
  return { seen, restore: () => spy.mockRestore() };
}

const WHO_LINE = JSON.stringify({ type: 'who' }) + '\n';

/** Frames of `type` that `client` received (errors: of that code only). */
function count(client: Client, type: 'who' | 'error', code?: string): number {
  return client.frames.filter((f) => f.type === type && (f.type !== 'error' || f.code === code))
    .length;
}

describeWithRedis('stage 9 `who`: one look-up in flight per connection', (url) => {
  const prefix = testPrefix();
  let cluster: TestCluster | undefined;
  let watch: ReturnType<typeof watchWho> | undefined;

  afterEach(async () => {
    watch?.restore();
    watch = undefined;
    await cluster?.close();
    cluster = undefined;
    await deleteKeys(url, prefix);
  });

  test('who frames pipelined in one write: one look-up, the rest RATE_LIMITED; the next who after the answer is served', async () => {
    cluster = await startCluster(1, { redisUrl: url, keyPrefix: prefix });
    const alice = await join(cluster.nodes[0]!.port, 'alice');
    watch = watchWho(); // after the welcome (which asks the cluster too)

    alice.socket.write(WHO_LINE.repeat(8)); // one write: the frames arrive in one read
    await alice.waitFor(() => count(alice, 'who') + count(alice, 'error', 'RATE_LIMITED') >= 8);
    expect(watch.seen.mostOpen).toBe(1);
    expect(watch.seen.calls).toBe(1);
    expect(count(alice, 'who')).toBe(1);
    const refused = alice.frames.filter((f) => f.type === 'error');
    expect(refused).toHaveLength(7);
    expect(refused[0]).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'one who look-up at a time',
    });

    // The permit came back with the answer: the next `who` is looked up.
    alice.send({ type: 'who' });
    await alice.waitFor(() => count(alice, 'who') === 2);
    expect(watch.seen.calls).toBe(2);
    expect(alice.frames.at(-1)).toMatchObject({ type: 'who', count: 1, online: ['alice'] });
  });

  test('a client flooding who is closed TOO_MANY_ERRORS after one look-up; members on both nodes keep chatting', async () => {
    cluster = await startCluster(2, { redisUrl: url, keyPrefix: prefix });
    const [a, b] = cluster.nodes.map((n) => n.port) as [number, number];
    const mallory = await join(a, 'mallory');
    const bob = await join(a, 'bob');
    const carol = await join(b, 'carol');
    watch = watchWho();

    mallory.socket.write(WHO_LINE.repeat(200));
    // Without the permit, all 200 are looked up (and answered): stop there
    // rather than wait for a close that never comes.
    await Promise.race([mallory.closed, mallory.waitFor(() => count(mallory, 'who') >= 200)]);
    expect(watch.seen.mostOpen).toBe(1);
    expect(watch.seen.calls).toBe(1);
    expect(count(mallory, 'who')).toBe(0); // closed before its one answer came back
    expect(count(mallory, 'error', 'RATE_LIMITED')).toBe(10); // the error budget
    expect(mallory.frames.at(-1)).toMatchObject({ type: 'error', code: 'TOO_MANY_ERRORS' });

    // The others: chat both ways across the nodes, and their own `who`.
    bob.send({ type: 'chat', text: 'still here' });
    carol.send({ type: 'chat', text: 'me too' });
    await carol.waitFor((f) => f.type === 'chat' && f.from === 'bob');
    await bob.waitFor((f) => f.type === 'chat' && f.from === 'carol');
    expect(chatFrom(carol, 'bob')).toEqual(['still here']);
    expect(chatFrom(bob, 'carol')).toEqual(['me too']);
    bob.send({ type: 'who' });
    expect(await bob.waitFor((f) => f.type === 'who')).toMatchObject({ count: 2 });
  });
});
