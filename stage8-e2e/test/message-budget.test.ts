// Stage 6's message budget, on the relay of sealed frames: a member flooding
// the room with room messages is slowed to the budget's pace, so another
// member's message overtakes the flood; key boxes cost nothing, since a
// leave makes every member send one to each of the others at once. The
// server checks shapes only, so the flood is shape-valid frames with
// random boxes: each receiver refuses them, after the server relayed them.
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

test('key boxes cost no token: 100 of them, then a burst of room messages, all go at once', async () => {
  // A budget that never refills within the test: a frame past it would never go.
  t = await startTestServer(undefined, {
    server: { messageBudget: { capacity: 20, refillMs: 600_000 } },
  });
  members = [await join(t, 'bob'), await join(t, 'mallory')];
  const [bob, mallory] = members as [TestMember, TestMember];
  mallory.login.socket.write(
    Buffer.concat([
      ...Array.from({ length: 100 }, () => keyBox('bob')),
      ...Array.from({ length: 20 }, (_, i) => roomMessage(i)),
    ]),
  );
  await bob.waitForFrame((f) => f.type === 'e2e-chat' && f.from === 'mallory' && f.counter === 19);
  expect(bob.frames.filter((f) => f.type === 'sender-key' && f.from === 'mallory')).toHaveLength(
    100,
  );
  expect(t.logLines.some((line) => line.includes('"throttled"'))).toBe(false);
});
