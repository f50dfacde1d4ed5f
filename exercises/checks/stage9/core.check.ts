// Stage 9, "write the core": the cross-node relay. The task is in
// exercises/core/stage9/relay.ts (and stage9-scale-out/README.md, "Exercises").
// The learner's relay is wired into three nodes of the stage's in-process
// cluster (the same bus contract as Redis, no server needed), and fed
// envelopes directly for the cases a healthy bus rarely produces.
import type { Exercise, CheckContext } from '../../kit/check';
import { expectSame } from '../../kit/expect';

// The API the exercise asks for, declared here (the check must not import
// course code; see exercises/README.md).
interface Envelope {
  kind: 'room' | 'direct';
  origin: string;
  seq: number;
  from: string;
  to?: string;
  frame: Buffer;
}
interface Members {
  broadcast(frame: Buffer): void;
  sendTo(user: string, frame: Buffer): boolean;
}
interface LearnerRelay {
  missed: number;
  receive(envelope: Envelope): string;
}
interface Bus {
  nodeId: string;
  publishRoom(from: string, frame: Buffer): boolean;
  sendDirect(from: string, to: string, frame: Buffer): Promise<string>;
}
interface Presence {
  claim(user: string, sessionId: string): Promise<void>;
}
interface LocalClusterModule {
  LocalCluster: new () => {
    join(
      listener: { envelope(e: Envelope): void; presence(e: unknown): void },
      nodeId?: string,
    ): { bus: Bus; presence: Presence };
  };
}

const ORIGIN = 'other~0000000a';

/** What one node's members received, through the learner's relay. */
interface Recorder {
  room: string[];
  direct: string[];
  members: Members;
}

function recorder(here: string[] = []): Recorder {
  const rec: Recorder = {
    room: [],
    direct: [],
    members: {
      broadcast: (frame) => void rec.room.push(frame.toString().trimEnd()),
      sendTo: (user, frame) =>
        here.includes(user) && rec.direct.push(`${user} ${frame.toString().trimEnd()}`) > 0,
    },
  };
  return rec;
}

function makeRelay(ctx: CheckContext, nodeId: string, members: Members): LearnerRelay {
  const { Relay } = ctx.load<{ Relay: new (id: string, m: Members) => LearnerRelay }>(
    'exercises/core/stage9/relay',
  );
  return new Relay(nodeId, members);
}

function room(seq: number, origin = ORIGIN): Envelope {
  return { kind: 'room', origin, seq, from: 'alice', frame: Buffer.from(`msg ${seq}\n`) };
}

/** Three nodes of one in-process cluster, each delivering through the learner's relay. */
function threeNodes(ctx: CheckContext) {
  const { LocalCluster } = ctx.load<LocalClusterModule>('stage9-scale-out/src/local-cluster');
  const cluster = new LocalCluster();
  return ['a', 'b', 'c'].map((name) => {
    const rec = recorder([`${name}-user`]);
    const nodeId = `${name}~0000000${name === 'a' ? 1 : name === 'b' ? 2 : 3}`;
    const relay = makeRelay(ctx, nodeId, rec.members);
    const node = cluster.join(
      { envelope: (e) => void relay.receive(e), presence: () => {} },
      nodeId,
    );
    return { ...node, rec, relay };
  });
}

/** The in-process cluster delivers on the next turn of the event loop. */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

export const exercise: Exercise = {
  title: 'Write the core: the cross-node relay (exactly once, in order)',
  readme: 'stage9-scale-out/README.md',
  starter: 'exercises/core/stage9/relay.ts',
  checks: [
    {
      name: 'a frame published on one node reaches the members of every other node once, in order',
      hint: 'a room envelope from another origin goes to members.broadcast(envelope.frame)',
      async run(ctx) {
        const [a, b, c] = threeNodes(ctx);
        for (let i = 1; i <= 3; i++) a!.bus.publishRoom('alice', Buffer.from(`hello ${i}\n`));
        await delivered();
        const expected = ['hello 1', 'hello 2', 'hello 3'];
        expectSame(b!.rec.room.join(' | '), expected.join(' | '), 'what node b’s members got');
        expectSame(c!.rec.room.join(' | '), expected.join(' | '), 'what node c’s members got');
      },
    },
    {
      name: 'a node does not deliver its own frames again (its members had them first)',
      hint: 'skip an envelope whose origin is this node’s id, and return "own"',
      async run(ctx) {
        const [a] = threeNodes(ctx);
        a!.bus.publishRoom('alice', Buffer.from('mine\n'));
        await delivered();
        expectSame(a!.rec.room.length, 0, 'frames node a’s relay delivered from node a');
        const relay = makeRelay(ctx, ORIGIN, recorder().members);
        expectSame(relay.receive(room(1)), 'own', 'the outcome for an own envelope');
      },
    },
    {
      name: 'a repeated or older envelope from the same origin is dropped',
      hint: 'keep the highest seq accepted per (kind, origin); accept only a higher one, else return "repeat" and keep the value as it was',
      async run(ctx) {
        const rec = recorder();
        const relay = makeRelay(ctx, 'self~00000000', rec.members);
        const outcomes = [1, 2, 2, 1, 3].map((seq) => relay.receive(room(seq)));
        expectSame(
          outcomes.join(','),
          'delivered,delivered,repeat,repeat,delivered',
          'the outcomes for seq 1,2,2,1,3',
        );
        expectSame(rec.room.join(' | '), 'msg 1 | msg 2 | msg 3', 'what the members got');
      },
    },
    {
      name: 'origins are numbered independently, and a restarted node (a new origin) starts again at 1',
      hint: 'key the last seq by origin (and kind), not one counter for the whole bus',
      async run(ctx) {
        const rec = recorder();
        const relay = makeRelay(ctx, 'self~00000000', rec.members);
        relay.receive(room(5, 'old~0000000b'));
        relay.receive(room(1, 'new~0000000c'));
        relay.receive(room(2, 'new~0000000c'));
        relay.receive(room(6, 'old~0000000b'));
        expectSame(rec.room.join(' | '), 'msg 5 | msg 1 | msg 2 | msg 6', 'what the members got');
      },
    },
    {
      name: 'a directed frame goes to its recipient only, with its own numbering',
      hint: 'for kind "direct", call members.sendTo(envelope.to, frame); "no-recipient" if it returns false (its seq is still kept); number it apart from room frames',
      async run(ctx) {
        const rec = recorder(['bob']);
        const relay = makeRelay(ctx, 'self~00000000', rec.members);
        const direct = (seq: number, to: string): Envelope => ({
          ...room(seq),
          kind: 'direct',
          to,
          frame: Buffer.from(`box ${seq}\n`),
        });
        relay.receive(room(7)); // room numbering: does not affect the directed one
        const outcomes = [
          direct(1, 'bob'),
          direct(2, 'carol'),
          direct(2, 'bob'),
          direct(3, 'bob'),
        ].map((e) => relay.receive(e));
        expectSame(outcomes.join(','), 'delivered,no-recipient,repeat,delivered', 'the outcomes');
        expectSame(rec.direct.join(' | '), 'bob box 1 | bob box 3', 'what bob got');
        expectSame(rec.room.join(' | '), 'msg 7', 'what was broadcast');
      },
    },
    {
      name: 'a jump in room numbering is counted in missed; a first contact is not',
      hint: 'missed += seq - last - 1 for a room envelope when a last seq is known for its origin',
      async run(ctx) {
        const relay = makeRelay(ctx, 'self~00000000', recorder().members);
        relay.receive(room(57)); // first contact: not a loss
        expectSame(relay.missed, 0, 'missed after a first envelope numbered 57');
        relay.receive(room(60));
        expectSame(relay.missed, 2, 'missed after 57 then 60');
      },
    },
    {
      name: 'through three nodes and a directed key box: each member hears everything once',
      hint: 'all the rules together: skip own, drop repeats, broadcast room frames, route directed ones',
      async run(ctx) {
        const [a, b, c] = threeNodes(ctx);
        await c!.presence.claim('c-user', 's1');
        a!.bus.publishRoom('alice', Buffer.from('one\n'));
        await a!.bus.sendDirect('alice', 'c-user', Buffer.from('key box\n'));
        b!.bus.publishRoom('bob', Buffer.from('two\n'));
        await delivered();
        expectSame(a!.rec.room.join(' | '), 'two', 'node a’s members');
        expectSame(b!.rec.room.join(' | '), 'one', 'node b’s members');
        expectSame(c!.rec.room.join(' | '), 'one | two', 'node c’s members');
        expectSame(c!.rec.direct.join(' | '), 'c-user key box', 'c-user’s directed frames');
        expectSame(b!.rec.direct.length, 0, 'directed frames on node b');
      },
    },
  ],
};
