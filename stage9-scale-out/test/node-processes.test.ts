// Nodes as separate processes (the line-node fixture), with real clients, on
// a redis-server of the test's own: exactly-once delivery across three
// processes, a node killed with SIGKILL mid-chat, and a node stopped with
// SIGSTOP that Redis cuts off instead of letting it stall anyone.
import { Redis } from 'ioredis';
import { DeliveryLedger } from '../../soak/delivery-ledger';
import { killNodeProcesses, logIn, startNodeProcess, type LineClient } from './node-process';
import { startOwnRedis, type OwnRedis } from './own-redis';
import { describeWithRedis } from './redis-env';

const HEARTBEAT_MS = 200;
const TTL_MS = 1_000;

describeWithRedis(
  'nodes as processes (own redis-server)',
  () => {
    let redis: OwnRedis | undefined;
    const clients: LineClient[] = [];

    const env = () => ({
      CHAT_REDIS_URL: redis!.url,
      CHAT_REDIS_PREFIX: 'proc:',
      CHAT_HEARTBEAT_MS: String(HEARTBEAT_MS),
      CHAT_TTL_MS: String(TTL_MS),
    });
    const client = async (port: number, name: string) => {
      const c = await logIn(port, name);
      clients.push(c);
      return c;
    };

    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      await killNodeProcesses();
      await redis?.stop();
      redis = undefined;
    });

    /** Resolves once `reader` has received `line`, before or after its cursor. */
    async function seen(reader: LineClient['lines'], line: string): Promise<void> {
      if (!reader.lines.includes(line)) await reader.waitFor((l) => l === line);
    }

    /** Records `SENDER: ID SEQ` chat lines a client receives into the ledger. */
    function record(ledger: DeliveryLedger, receiver: LineClient, counter: { n: number }) {
      const seen = receiver.lines.lines;
      let read = 0;
      return () => {
        for (; read < seen.length; read++) {
          const match = /^(\S+): (\S+) (\d+)$/.exec(seen[read]!);
          if (match === null) continue;
          ledger.receipt(receiver.name, match[2]!, Number(match[3]));
          counter.n++;
        }
      };
    }

    test('three node processes, two clients on each: every message reaches every other client once, in order', async () => {
      redis = await startOwnRedis();
      const nodes = await Promise.all([1, 2, 3].map(() => startNodeProcess(env())));
      const members: LineClient[] = [];
      for (const [n, node] of nodes.entries()) {
        for (const m of [1, 2]) members.push(await client(node.port, `n${n}m${m}`));
      }
      const ledger = new DeliveryLedger();
      for (const m of members) ledger.joined(m.name);
      for (let round = 0; round < 30; round++) {
        for (const m of members) m.send(`${m.name} ${ledger.nextSend(m.name)}`);
      }
      const owed = ledger.sentCount * (members.length - 1);
      const counter = { n: 0 };
      const readers = members.map((m) => record(ledger, m, counter));
      // Each client's last message reaches every other client last.
      for (const m of members) {
        for (const other of members)
          if (other !== m) await seen(m.lines, `${other.name}: ${other.name} 30`);
      }
      for (const read of readers) read();
      const verdict = ledger.verify(members.map((m) => m.name));
      expect(verdict.examples).toEqual([]);
      expect(counter.n).toBe(owed);
    });

    test('a node killed with SIGKILL mid-chat: the others lose nothing, see its user leave within the TTL, and the user can log in elsewhere', async () => {
      redis = await startOwnRedis();
      const [n1, n2, doomed] = await Promise.all([1, 2, 3].map(() => startNodeProcess(env())));
      const alice = await client(n1!.port, 'alice');
      const bob = await client(n2!.port, 'bob');
      await client(doomed!.port, 'kim');
      await alice.lines.waitFor('* kim joined');

      const ledger = new DeliveryLedger();
      ledger.joined('alice');
      ledger.joined('bob');
      for (let i = 0; i < 50; i++) {
        alice.send(`alice ${ledger.nextSend('alice')}`);
        bob.send(`bob ${ledger.nextSend('bob')}`);
      }
      const killedAt = Date.now();
      doomed!.child.kill('SIGKILL');
      for (let i = 0; i < 50; i++) {
        alice.send(`alice ${ledger.nextSend('alice')}`);
        bob.send(`bob ${ledger.nextSend('bob')}`);
      }

      await seen(alice.lines, '* kim left');
      await seen(bob.lines, '* kim left');
      // Detection takes at most the TTL plus one heartbeat (the next reaper
      // run); the bound allows a busy machine three more seconds.
      expect(Date.now() - killedAt).toBeLessThan(TTL_MS + HEARTBEAT_MS + 3_000);
      const kim = await client(n2!.port, 'kim'); // at once: the session was cleared
      kim.send('/who');
      expect(await kim.lines.waitFor(/^\* online /)).toMatch(/^\* online 3: /);

      await seen(alice.lines, 'bob: bob 100');
      await seen(bob.lines, 'alice: alice 100');
      const counter = { n: 0 };
      record(ledger, alice, counter)();
      record(ledger, bob, counter)();
      expect(ledger.verify(['alice', 'bob']).examples).toEqual([]);
      expect(counter.n).toBe(200);
    });

    test('a node stopped with SIGSTOP cannot stall the others: Redis cuts it off at its output-buffer limit, and it rejoins when continued', async () => {
      // A small limit for pub/sub clients, so a few hundred KiB is enough.
      redis = await startOwnRedis(['--client-output-buffer-limit', 'pubsub 256kb 0 0']);
      const [a, b, stuck] = await Promise.all([1, 2, 3].map(() => startNodeProcess(env())));
      const alice = await client(a!.port, 'alice');
      const bob = await client(b!.port, 'bob');
      const sam = await client(stuck!.port, 'sam');
      await alice.lines.waitFor('* sam joined');

      const admin = new Redis(redis.url);
      try {
        stuck!.child.kill('SIGSTOP');
        const subscriber = `name=${stuck!.nodeId}:sub`;
        const padding = 'x'.repeat(1000);
        let sent = 0;
        // Flood until Redis has dropped the stuck node's subscriber (a
        // bounded loop: 20 MB at most), checking that bob keeps up.
        while (String(await admin.client('LIST')).includes(subscriber)) {
          if (sent >= 20_000) throw new Error('Redis never cut off the stuck subscriber');
          for (let i = 0; i < 200; i++) alice.send(`flood ${++sent} ${padding}`);
          await bob.lines.waitFor(`alice: flood ${sent} ${padding}`);
        }
        // bob got every line, in order, while sam's node was stuck.
        const floods = bob.lines.lines.filter((l) => l.startsWith('alice: flood '));
        expect(floods).toEqual(
          Array.from({ length: sent }, (_, i) => `alice: flood ${i + 1} ${padding}`),
        );

        stuck!.child.kill('SIGCONT');
        await stuck!.stdout.waitFor('state split');
        await stuck!.stdout.waitFor('state joined');
        await sam.lines.waitFor('* the room is split: only members on this node hear you');
        await sam.lines.waitFor('* rejoined');
        alice.send('welcome back');
        await sam.lines.waitFor('alice: welcome back');
      } finally {
        admin.disconnect();
      }
    });
  },
  { ownServer: true },
);
