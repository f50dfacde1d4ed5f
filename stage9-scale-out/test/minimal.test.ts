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
  // If the test fails, even by timing out, say which step it was waiting on
  // and what the nodes printed: a hang alone tells nobody anything.
  let step = 'not started';
  let nodes: ScriptProcess[] = [];
  afterEach(() => {
    if (step === 'done') return;
    const printed = nodes.map(
      (node, i) =>
        `node ${i + 1} stdout:\n${node.stdout.lines.join('\n')}\n` +
        `node ${i + 1} stderr:\n${node.stderr.lines.join('\n')}`,
    );
    process.stderr.write(`stage9:minimal test stopped at: ${step}\n${printed.join('\n')}\n`);
  });

  test('two nodes share a room: a line sent on one reaches the members of both, once', async () => {
    const env = { CHAT_REDIS_URL: url, CHAT_REDIS_PREFIX: testPrefix() };
    nodes = [
      run('stage9:minimal', ['--port', '0'], env),
      run('stage9:minimal', ['--port', '0'], env),
    ];
    step = 'both nodes printing "listening on"';
    const [port1, port2] = await Promise.all(nodes.map(listeningPort));

    step = 'connecting alice and carol to node 1, bob to node 2';
    const alice = await connect(port1!);
    const carol = await connect(port1!);
    const bob = await connect(port2!);
    const [aliceLines, carolLines, bobLines] = [alice, carol, bob].map((s) => new LineReader(s));
    const label = (s: typeof alice) => `127.0.0.1:${s.localPort}`;

    alice.write('hello from node 1\n');
    step = "bob (node 2) hearing alice's line through Redis";
    expect(await bobLines!.next()).toBe(`${label(alice)}: hello from node 1`);
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
    expect(bobLines!.lines).toEqual([`${label(alice)}: hello from node 1`]);
    for (const s of [alice, carol, bob]) s.destroy();
    step = 'done';
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
