// Stage 9 nodes as one room over a real Redis: three TLS nodes in this
// process, each under this suite's own key prefix, with clients on each.
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import {
  chatFrom,
  connectTo,
  join,
  startCluster,
  type Client,
  type TestCluster,
} from './server-harness';

describeWithRedis('stage 9 nodes over Redis', (url) => {
  const prefixes: string[] = [];
  let cluster: TestCluster | undefined;
  const start = (count: number, extra = {}) => {
    const keyPrefix = testPrefix();
    prefixes.push(keyPrefix);
    return startCluster(count, { redisUrl: url, keyPrefix, ...extra });
  };
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    for (const prefix of prefixes.splice(0)) await deleteKeys(url, prefix);
  });

  test('clients on three nodes: every member gets every other member’s messages once, in order', async () => {
    cluster = await start(3);
    const ports = cluster.nodes.map((n) => n.port);
    const names = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
    const clients: Client[] = [];
    for (const [i, name] of names.entries()) clients.push(await join(ports[i % 3]!, name));
    // Everyone counts everyone, whichever node they are on.
    const last = clients[5]!;
    last.send({ type: 'who' });
    expect(await last.waitFor((f) => f.type === 'who')).toMatchObject({ count: 6 });

    const perSender = 40;
    for (let seq = 1; seq <= perSender; seq++) {
      for (const client of clients) client.send({ type: 'chat', text: `m${seq}` });
    }
    const expected = Array.from({ length: perSender }, (_, i) => `m${i + 1}`);
    // A closing marker from each sender, sent after its messages: once it
    // has arrived, a repeat of anything before it would have arrived too.
    for (const client of clients) client.send({ type: 'chat', text: 'end' });
    for (const [r, receiver] of clients.entries()) {
      for (const [s, sender] of names.entries()) {
        if (r === s) continue;
        await receiver.waitFor((f) => f.type === 'chat' && f.from === sender && f.text === 'end');
        expect(chatFrom(receiver, sender)).toEqual([...expected, 'end']);
      }
      expect(chatFrom(receiver, names[r]!)).toEqual([]); // never its own back
    }
  });

  test('a `who` sent just before the client half-closes is answered before our FIN', async () => {
    // The answer waits on Redis; the FIN used to be answered at once, and
    // the `who` answer came after it, to nobody (what `printf 'pw\n/who\n'
    // | client` does).
    cluster = await start(1);
    const alice = await join(cluster.nodes[0]!.port, 'alice');
    alice.socket.end(JSON.stringify({ type: 'who' }) + '\n');
    await alice.closed;
    expect(alice.frames.filter((f) => f.type === 'who')).toEqual([
      { type: 'who', count: 1, online: ['alice'] },
    ]);
  });

  test('one session per user across nodes; a user leaving one node is seen leaving on the others', async () => {
    cluster = await start(2);
    const [a, b] = cluster.nodes.map((n) => n.port);
    const alice = await join(a!, 'alice');
    await expect(join(b!, 'alice', 'login')).rejects.toThrow('ALREADY_LOGGED_IN');
    await expect(join(a!, 'alice', 'login')).rejects.toThrow('ALREADY_LOGGED_IN');
    const bob = await join(b!, 'bob');
    expect(await alice.waitFor((f) => f.type === 'joined')).toEqual({
      type: 'joined',
      who: 'bob',
      online: 2,
    });
    bob.socket.end();
    expect(await alice.waitFor((f) => f.type === 'left')).toEqual({
      type: 'left',
      who: 'bob',
      online: 1,
    });
    // Released everywhere: bob logs in again on the other node.
    const again = await join(a!, 'bob', 'login');
    again.send({ type: 'who' });
    expect(await again.waitFor((f) => f.type === 'who')).toMatchObject({ count: 2 });
  });

  test('a guesser spreading wrong passwords over the nodes gets one budget, not one per node', async () => {
    cluster = await start(3, { rateLimits: { perIp: { capacity: 3, refillMs: 600_000 } } });
    const ports = cluster.nodes.map((n) => n.port);
    await (await join(ports[0]!, 'victim')).socket.end();
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const guess = await connectTo(ports[i % 3]!);
      guess.send({ type: 'login', user: 'victim', password: `wrong guess ${i}` });
      const answer = await guess.waitFor((f) => f.type === 'error');
      codes.push(answer.type === 'error' ? answer.code : '');
    }
    // The registration took no login token: three failures, then refused,
    // on the third node though each node alone saw at most two attempts.
    expect(codes).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'RATE_LIMITED']);
  });
});
