// The relay's rule, envelope by envelope: skip our own, drop what is not
// newer than the last from its origin, count jumps, deliver the rest.
import type { BusEnvelope } from '../src/bus-envelope';
import { Relay } from '../src/relay';

const SELF = 'self~00000000';
const A = 'node-a~0000000a';

function room(origin: string, seq: number): BusEnvelope {
  return { kind: 'room', origin, seq, from: 'alice', frame: Buffer.from(`${origin} ${seq}\n`) };
}

function setup(maxOrigins?: number) {
  const broadcast: string[] = [];
  const lost: string[] = [];
  const direct: string[] = [];
  const here = new Set(['bob']);
  const relay = new Relay(
    SELF,
    {
      broadcast: (frame) => broadcast.push(frame.toString().trimEnd()),
      sendTo: (user, frame) =>
        here.has(user) && direct.push(`${user} ${frame.toString().trimEnd()}`) > 0,
    },
    maxOrigins,
    (origin, count) => lost.push(`${origin} ${count}`),
  );
  return { relay, broadcast, direct, lost };
}

test('own envelopes are skipped; others delivered once, in order; repeats and stragglers dropped', () => {
  const { relay, broadcast } = setup();
  expect(relay.receive(room(SELF, 1))).toBe('own');
  expect([1, 2, 2, 1, 3].map((seq) => relay.receive(room(A, seq)))).toEqual([
    'delivered',
    'delivered',
    'repeat',
    'repeat',
    'delivered',
  ]);
  expect(broadcast).toEqual([`${A} 1`, `${A} 2`, `${A} 3`]);
  expect(relay.missed).toBe(0);
});

test('a jump counts and reports the room messages missed; a first contact does not', () => {
  const { relay, lost } = setup();
  relay.receive(room(A, 57)); // we were not listening before: not a loss
  relay.receive(room(A, 58));
  expect(relay.missed).toBe(0);
  relay.receive(room(A, 61));
  expect(relay.missed).toBe(2);
  relay.receive(room('node-a~0000000b', 1)); // a restarted node is a new origin
  expect(relay.missed).toBe(2);
  expect(lost).toEqual([`${A} 2`]); // each loss reported once, for the log
});

test('directed envelopes: their own numbering, delivered only to a recipient who is here', () => {
  const { relay, direct } = setup();
  const to = (user: string, seq: number): BusEnvelope => ({
    kind: 'direct',
    origin: A,
    seq,
    from: 'alice',
    to: user,
    frame: Buffer.from(`box ${seq}\n`),
  });
  relay.receive(room(A, 5));
  expect(relay.receive(to('bob', 1))).toBe('delivered');
  expect(relay.receive(to('carol', 2))).toBe('no-recipient');
  expect(relay.receive(to('bob', 2))).toBe('repeat');
  expect(relay.receive(to('bob', 3))).toBe('delivered');
  expect(direct).toEqual(['bob box 1', 'bob box 3']);
  expect(relay.missed).toBe(0); // gaps in directed numbering are normal
});

test('remembers at most maxOrigins origins, forgetting the least recently heard', () => {
  const { relay } = setup(2);
  const [b, c] = ['node-b~0000000b', 'node-c~0000000c'];
  relay.receive(room(A, 1));
  relay.receive(room(b, 1));
  relay.receive(room(A, 2)); // A is now the most recent
  relay.receive(room(c, 1)); // b is forgotten
  expect(relay.receive(room(A, 2))).toBe('repeat');
  expect(relay.receive(room(b, 1))).toBe('delivered');
});
