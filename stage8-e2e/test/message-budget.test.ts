// Stage 6's message budget, on the relay of sealed frames: a member flooding
// the room with room messages is slowed to the budget's pace, so another
// member's message overtakes the flood. A key box costs nothing the first
// time in a membership (a leave makes every member send one to each of the
// others at once), and a token like any frame after that. The
// server checks shapes only, so the flood is shape-valid frames with
// random boxes: each receiver refuses them, after the server relayed them.
import { once } from 'node:events';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import type { ShownFrame } from '../src/client-login';
import { encodeClientFrame } from '../src/messages';
import { join, startTestServer, type TestMember, type TestServer } from './harness';

const box = Buffer.alloc(92, 7).toString('base64');
const sig = Buffer.alloc(64, 9).toString('base64');
const roomMessage = (counter: number) =>
  encodeClientFrame({ type: 'e2e-chat', epoch: 1, counter, box, sig });
const eph = Buffer.alloc(32, 5).toString('base64');
const keyBox = (to: string) => encodeClientFrame({ type: 'sender-key', to, eph, box, sig });

const isRoomMessageFrom = (from: string) => (f: ShownFrame) =>
  f.type === 'e2e-chat' && f.from === from;

let t: TestServer;
let members: TestMember[] = [];
afterEach(async () => {
  // Destroyed, not ended: a flooder's end would wait behind its flood.
  for (const m of members) m.login.socket.destroy();
  members = [];
  await t.close();
});

test("a flood of room messages does not hold another member's message back", async () => {
  t = await startTestServer();
  members = [await join(t, 'alice'), await join(t, 'bob'), await join(t, 'mallory')];
  const [alice, bob, mallory] = members as [TestMember, TestMember, TestMember];
  mallory.login.socket.write(Buffer.concat(Array.from({ length: 300 }, (_, i) => roomMessage(i))));
  await bob.waitForFrame(isRoomMessageFrom('mallory'));
  alice.room.say('hello');
  const hello = await bob.waitForFrame(isRoomMessageFrom('alice'));
  const before = bob.frames
    .slice(0, bob.frames.indexOf(hello))
    .filter(isRoomMessageFrom('mallory'));
  // The burst, not the whole read: before the budget, 64 frames a turn went out at once.
  expect(before.length).toBeGreaterThanOrEqual(DEFAULT_MESSAGE_BUDGET.capacity);
  expect(before.length).toBeLessThan(40);
  expect(await bob.waitFor('chat', /hello/)).toMatch(/alice.*hello/);
});

test('a box to each other member after a change costs no token, however many members', async () => {
  // A budget of 2 that never refills within the test: a frame past it would never go.
  t = await startTestServer(undefined, {
    server: { messageBudget: { capacity: 2, refillMs: 600_000 } },
  });
  const others = ['bob', 'carol', 'dave', 'erin'];
  for (const name of others) members.push(await join(t, name));
  const mallory = await join(t, 'mallory');
  members.push(mallory);
  // What a sender writes after a leave: one box to each other member (4,
  // more than the budget), then its message; and one more message.
  mallory.login.socket.write(
    Buffer.concat([...others.map(keyBox), roomMessage(0), roomMessage(1)]),
  );
  for (const m of members.slice(0, 4)) {
    await m.waitForFrame((f) => f.type === 'e2e-chat' && f.from === 'mallory' && f.counter === 1);
    expect(m.frames.filter((f) => f.type === 'sender-key' && f.from === 'mallory')).toHaveLength(1);
  }
  expect(t.logLines.some((line) => line.includes('"throttled"'))).toBe(false);
});

test("a flood of key boxes at one member does not hold another member's message back", async () => {
  t = await startTestServer();
  members = [await join(t, 'alice'), await join(t, 'bob'), await join(t, 'mallory')];
  const [alice, bob, mallory] = members as [TestMember, TestMember, TestMember];
  const fromMallory = (f: ShownFrame) => f.type === 'sender-key' && f.from === 'mallory';
  mallory.login.socket.write(Buffer.concat(Array.from({ length: 300 }, () => keyBox('bob'))));
  await bob.waitForFrame(fromMallory);
  alice.room.say('hello');
  const hello = await bob.waitForFrame(isRoomMessageFrom('alice'));
  const before = bob.frames.slice(0, bob.frames.indexOf(hello)).filter(fromMallory);
  // One free box for bob in this membership, then the burst.
  expect(before.length).toBeGreaterThan(DEFAULT_MESSAGE_BUDGET.capacity);
  expect(before.length).toBeLessThan(40);
  expect(await bob.waitFor('chat', /hello/)).toMatch(/alice.*hello/);
});

test('after a membership change, a key box to each member is free again', async () => {
  // One token that never comes back: past it, only a free box goes.
  t = await startTestServer(undefined, {
    server: { messageBudget: { capacity: 1, refillMs: 600_000 } },
  });
  members = [await join(t, 'bob'), await join(t, 'mallory')];
  const [bob, mallory] = members as [TestMember, TestMember];
  const boxesFrom = (m: TestMember) => () =>
    m.frames.filter((f) => f.type === 'sender-key' && f.from === 'mallory').length;
  mallory.login.socket.write(Buffer.concat([keyBox('bob'), keyBox('bob')])); // free, then the token
  await bob.waitForFrame(() => boxesFrom(bob)() === 2);
  const carol = await join(t, 'carol');
  members.push(carol);
  mallory.login.socket.write(Buffer.concat([keyBox('bob'), keyBox('carol'), keyBox('bob')]));
  await bob.waitForFrame(() => boxesFrom(bob)() === 3);
  await carol.waitForFrame(() => boxesFrom(carol)() === 1);
  await t.waitForLog((record) => record.event === 'throttled'); // the last one waits
  expect(boxesFrom(bob)()).toBe(3);
});

test('a key box to a name that is not online is no free box: it costs a token like any frame', async () => {
  // Only a box to a member who is online can be free (one per member per
  // membership). A box to anyone else is dropped by the server, but it must
  // still spend the budget: otherwise a member could send boxes to endless
  // made-up names at line rate, never slowed, each name remembered by the
  // server. Budget 2, never refilled: two boxes to strangers use it up, the
  // third is held, and the room message written after them never goes out.
  t = await startTestServer(undefined, {
    server: { messageBudget: { capacity: 2, refillMs: 600_000 } },
  });
  members = [await join(t, 'bob'), await join(t, 'mallory')];
  const [bob, mallory] = members as [TestMember, TestMember];
  const strangers = Array.from({ length: 10 }, (_, i) => keyBox(`ghost${i}`));
  mallory.login.socket.write(Buffer.concat([...strangers, roomMessage(0)]));
  // Whichever comes first: reading paused, or the room message relayed to bob.
  const first = await Promise.race([
    t.waitForLog((record) => record.event === 'throttled').then(() => 'throttled'),
    bob.waitForFrame(isRoomMessageFrom('mallory')).then(() => 'relayed'),
  ]);
  expect(first).toBe('throttled');
  expect(bob.frames.filter(isRoomMessageFrom('mallory'))).toHaveLength(0);
});

test('a member that sends past its burst and then ends loses nothing: the rest at the pace, then `left`', async () => {
  t = await startTestServer(undefined, {
    server: { messageBudget: { capacity: 20, refillMs: 50 } },
  });
  members = [await join(t, 'bob'), await join(t, 'mallory')];
  const [bob, mallory] = members as [TestMember, TestMember];
  mallory.login.socket.end(Buffer.concat(Array.from({ length: 30 }, (_, i) => roomMessage(i))));
  await once(mallory.login.socket, 'close'); // answered once the held frames are out
  const left = await bob.waitForFrame((f) => f.type === 'left' && f.who === 'mallory');
  const counters = bob.frames
    .slice(0, bob.frames.indexOf(left))
    .flatMap((f) => (f.type === 'e2e-chat' && f.from === 'mallory' ? [f.counter] : []));
  // Before: the 20 of the burst, then `left`; what the budget held was dropped.
  expect(counters).toEqual(Array.from({ length: 30 }, (_, i) => i));
});
