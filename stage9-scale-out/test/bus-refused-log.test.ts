// Garbage on the bus stays visible to the operator without flooding the
// log: refused bus messages are logged through a log sampler (one line per
// interval, with the running count), and the interval's end says how many
// more were refused (or the node's close does, if that comes first). A node
// of the cluster on the machine's Redis; the garbage comes from a separate
// Redis client on the node's own channel; the sampler's interval is moved by
// fake timers (setInterval only: Redis, sockets and the link's timers stay
// real).
import { Redis } from 'ioredis';
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { encodeEnvelope } from '../src/bus-envelope';
import { clusterKeys, makeNodeId } from '../src/cluster-keys';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';
import { Progress, TEST_BUS_KEYS, TestNode } from './test-node';

describeWithRedis('malformed bus messages in the log', (url) => {
  const prefix = testPrefix();
  const keys = clusterKeys(prefix);
  let node: TestNode | undefined;
  let raw: Redis | undefined;

  afterEach(async () => {
    jest.useRealTimers();
    await node?.cluster.close();
    node = undefined;
    raw?.disconnect();
    raw = undefined;
    await deleteKeys(url, prefix);
  });

  // A node, and a separate client that publishes on the node's own channel:
  // `garbage(n)` sends n malformed messages, then one good envelope behind
  // them. Once the node has delivered that, it has read (and refused) the
  // garbage.
  const startNode = async (name: string) => {
    const progress = new Progress();
    const started = await TestNode.start(new DeliveryLedger(), progress, {
      redisUrl: url,
      keyPrefix: prefix,
      name,
    });
    node = started;
    const publisher = (raw = new Redis(url));
    const channel = keys.nodeChannel(started.cluster.nodeId);
    const origin = makeNodeId('mark');
    let marks = 0;
    const garbage = async (times: number) => {
      for (let i = 0; i < times; i++) await publisher.publish(channel, `not an envelope ${i}\n`);
      const seq = ++marks;
      const frame = Buffer.from(`mark ${seq}\n`);
      const envelope = { kind: 'room', origin, seq, from: 'mark', frame } as const;
      await publisher.publish(channel, encodeEnvelope(envelope, TEST_BUS_KEYS, Date.now()));
      await progress.until(() => started.arrivals.length === seq);
    };
    const malformed = () => started.logs.filter((l) => l.includes('malformed'));
    return { started, garbage, malformed };
  };

  test('are logged once per interval with the running count, and the rest summed at its end', async () => {
    const { garbage, malformed } = await startNode('garbage');
    // After the node started, so only what is set from now on is fake.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });

    // How many lines at each step first, then what they say.
    await garbage(3);
    expect(malformed()).toHaveLength(1);
    jest.advanceTimersByTime(10_000); // the interval ends: the two left out are counted
    expect(malformed()).toHaveLength(2);
    await garbage(50); // a new interval: one more line, then silence
    expect(malformed()).toHaveLength(3);
    jest.advanceTimersByTime(10_000);
    expect(malformed()).toHaveLength(4);
    jest.advanceTimersByTime(10_000); // nothing refused meanwhile: nothing to say
    expect(malformed()).toHaveLength(4);

    const [first, summary, again, summaryAgain] = malformed();
    expect(first).toMatch(
      /^refused a malformed bus message \(1 so far\b.*: .*unknown version "not"/,
    );
    expect(summary).toMatch(/^refused 2 more malformed bus messages\b.*\(3 so far\)/);
    expect(again).toMatch(/^refused a malformed bus message \(4 so far\b/);
    expect(summaryAgain).toMatch(/^refused 49 more malformed bus messages\b.*\(53 so far\)/);
  });

  test("what the interval left out is still counted when the node closes before the interval's end", async () => {
    const { started, garbage, malformed } = await startNode('closing');
    await garbage(3);
    await started.cluster.close();
    node = undefined;
    expect(malformed()).toHaveLength(2);
    expect(malformed()[1]).toMatch(/^refused 2 more malformed bus messages\b.*\(3 so far\)/);
  });
});
