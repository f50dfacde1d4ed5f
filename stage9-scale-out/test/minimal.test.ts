// `npm run stage9:minimal` as a user runs it: two processes sharing one room
// through Redis, each with a client of its own; then one node through a Redis
// outage (its own redis-server, stopped and restarted).
import { Redis } from 'ioredis';
import {
  connect,
  LineReader,
  listeningPort,
  scriptSuite,
  type ScriptProcess,
} from '../../shared/test/helpers';
import { startOwnRedis } from './own-redis';
import { describeWithRedis, testPrefix } from './redis-env';

describeWithRedis('the minimal node (npm run stage9:minimal)', (url) => {
  const { run } = scriptSuite('stage9-minimal');
  // If the test fails, even by timing out, say which step it was waiting on,
  // what the nodes printed and what went through Redis: a hang alone tells
  // nobody anything.
  let step = 'not started';
  let nodes: ScriptProcess[] = [];
  const published: string[] = [];
  afterEach(() => {
    if (step === 'done') return;
    const printed = nodes.map(
      (node, i) =>
        `node ${i + 1} stdout:\n${node.stdout.lines.join('\n')}\n` +
        `node ${i + 1} stderr:\n${node.stderr.lines.join('\n')}`,
    );
    process.stderr.write(
      `stage9:minimal test stopped at: ${step}\n${printed.join('\n')}\n` +
        `published on the channel:\n${published.join('\n')}\n`,
    );
  });

  // A member is in a node's room once the node has run its connection
  // handler, not when the client's connect() returns: a line from Redis can
  // reach the node before it gets round to accepting a client that is already
  // connected, and that client never sees the line. So each member proves it
  // is in (a line of its own that the others hear) before the test counts on
  // it hearing anything.
  test('two nodes share a room: a line sent on one reaches the members of both, once', async () => {
    const prefix = testPrefix();
    const env = { CHAT_REDIS_URL: url, CHAT_REDIS_PREFIX: prefix };
    const watcher = new Redis(url);
    try {
      step = 'a watcher subscribing to the channel';
      await watcher.subscribe(`${prefix}minimal-room`);
      const onChannel = (text: string) =>
        new Promise<void>((resolve) => {
          watcher.on('message', (_channel: string, message: string) => {
            if (message.endsWith(text)) resolve();
          });
        });
      watcher.on('message', (_channel: string, message: string) => published.push(message));

      step = 'node 1 printing "listening on"';
      nodes = [run('stage9:minimal', ['--port', '0'], env)];
      const port1 = await listeningPort(nodes[0]!);
      step = 'connecting alice and carol to node 1';
      const alice = await connect(port1);
      const carol = await connect(port1);
      const [aliceLines, carolLines] = [alice, carol].map((s) => new LineReader(s));
      const label = (s: typeof alice) => `127.0.0.1:${s.localPort}`;
      // Node 1 accepts alice before carol, and reads carol's line only after
      // accepting her: alice hearing it proves both are in.
      const carolPublished = onChannel(': carol is here');
      carol.write('carol is here\n');
      step = "alice hearing carol's first line";
      expect(await aliceLines!.next()).toBe(`${label(carol)}: carol is here`);
      // Node 2 subscribes after this, so it never sees carol's line.
      step = "carol's first line reaching Redis";
      await carolPublished;

      step = 'node 2 printing "listening on"';
      nodes.push(run('stage9:minimal', ['--port', '0'], env));
      const port2 = await listeningPort(nodes[1]!);
      step = 'connecting bob to node 2';
      const bob = await connect(port2);
      const bobLines = new LineReader(bob);
      bob.write('bob is here\n'); // read after bob is accepted: it proves he is in
      step = "alice and carol (node 1) hearing bob's first line through Redis";
      expect(await aliceLines!.next()).toBe(`${label(bob)}: bob is here`);
      expect(await carolLines!.next()).toBe(`${label(bob)}: bob is here`);

      alice.write('hello from node 1\n');
      step = "bob (node 2) hearing alice's line through Redis";
      expect(await bobLines.next()).toBe(`${label(alice)}: hello from node 1`);
      step = "carol (node 1) hearing alice's line";
      expect(await carolLines!.next()).toBe(`${label(alice)}: hello from node 1`);
      bob.write('héllo back\r\n'); // telnet's line ending, and a multi-byte character
      step = "alice (node 1) hearing bob's line through Redis";
      expect(await aliceLines!.next()).toBe(`${label(bob)}: héllo back`);
      step = "carol (node 1) hearing bob's line through Redis";
      expect(await carolLines!.next()).toBe(`${label(bob)}: héllo back`);
      // Nobody got anything twice, or their own line back.
      bob.write('last\n');
      step = "alice hearing bob's last line";
      expect(await aliceLines!.next()).toBe(`${label(bob)}: last`);
      expect(bobLines.lines).toEqual([`${label(alice)}: hello from node 1`]);
      for (const s of [alice, carol, bob]) s.destroy();
      step = 'done';
    } finally {
      watcher.disconnect();
    }
  });
});

describeWithRedis(
  'the minimal node when Redis goes away',
  () => {
    const { run } = scriptSuite('stage9-minimal-outage');

    test('it says why in one line per outage, and its own room keeps going', async () => {
      const redis = await startOwnRedis();
      const node = run('stage9:minimal', ['--port', '0'], { CHAT_REDIS_URL: redis.url });
      try {
        const port = await listeningPort(node);
        const [ana, bo] = [await connect(port), await connect(port)];
        const boLines = new LineReader(bo);
        await redis.stop();
        // "connect ECONNREFUSED 127.0.0.1:PORT", or ECONNRESET if a retry
        // reaches Redis while it is still shutting down.
        expect(await node.stderr.next()).toMatch(/^redis: .*ECONN(REFUSED|RESET).*; retrying$/);
        ana.write('while redis is down\n');
        expect(await boLines.next()).toBe(`127.0.0.1:${ana.localPort}: while redis is down`);
        // Redis is back: the node reconnects by itself (a line from ana
        // reaches a watcher on the channel), and a new outage gets a new line.
        await redis.restart();
        const watcher = new Redis(redis.url);
        try {
          await watcher.subscribe('chat:minimal-room');
          // (The line typed during the outage may come first: ioredis kept it.)
          const heard = new Promise<string>((resolve) => {
            watcher.on('message', (_channel: string, message: string) => {
              if (message.endsWith(': redis is back')) resolve(message);
            });
          });
          ana.write('redis is back\n');
          expect(await heard).toContain(`127.0.0.1:${ana.localPort}: redis is back`);
          expect(await boLines.next()).toBe(`127.0.0.1:${ana.localPort}: redis is back`);
        } finally {
          watcher.disconnect();
        }
        await redis.stop();
        expect(await node.stderr.next()).toMatch(/^redis: .*; retrying$/);
        ana.write('still here\n');
        expect(await boLines.next()).toBe(`127.0.0.1:${ana.localPort}: still here`);
        // Never a stack trace per retry, as ioredis prints with no listener.
        expect(node.stderr.lines.join('\n')).not.toMatch(/Unhandled|\n\s+at /);
        for (const s of [ana, bo]) s.destroy();
      } finally {
        await redis.stop();
      }
    });
  },
  { ownServer: true },
);
