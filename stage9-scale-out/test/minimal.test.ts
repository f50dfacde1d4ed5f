// `npm run stage9:minimal`, twice, as a user runs it: two processes sharing
// one room through Redis, each with a client of its own.
import { connect, LineReader, listeningPort, scriptSuite } from '../../shared/test/helpers';
import { describeWithRedis, testPrefix } from './redis-env';

describeWithRedis('the minimal node (npm run stage9:minimal)', (url) => {
  const { run } = scriptSuite('stage9-minimal');

  test('two nodes share a room: a line sent on one reaches the members of both, once', async () => {
    const env = { CHAT_REDIS_URL: url, CHAT_REDIS_PREFIX: testPrefix() };
    const nodes = [
      run('stage9:minimal', ['--port', '0'], env),
      run('stage9:minimal', ['--port', '0'], env),
    ];
    const [port1, port2] = await Promise.all(nodes.map(listeningPort));

    const alice = await connect(port1!);
    const carol = await connect(port1!);
    const bob = await connect(port2!);
    const [aliceLines, carolLines, bobLines] = [alice, carol, bob].map((s) => new LineReader(s));
    const label = (s: typeof alice) => `127.0.0.1:${s.localPort}`;

    alice.write('hello from node 1\n');
    expect(await bobLines!.next()).toBe(`${label(alice)}: hello from node 1`);
    expect(await carolLines!.next()).toBe(`${label(alice)}: hello from node 1`);
    bob.write('héllo back\r\n'); // telnet's line ending, and a multi-byte character
    expect(await aliceLines!.next()).toBe(`${label(bob)}: héllo back`);
    expect(await carolLines!.next()).toBe(`${label(bob)}: héllo back`);
    // Nobody got anything twice, or their own line back.
    bob.write('last\n');
    expect(await aliceLines!.next()).toBe(`${label(bob)}: last`);
    expect(bobLines!.lines).toEqual([`${label(alice)}: hello from node 1`]);
    for (const s of [alice, carol, bob]) s.destroy();
  });
});
