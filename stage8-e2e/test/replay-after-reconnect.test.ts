// Attack: the server replays old messages to a member that reconnected.
// Within one session a used counter, or an epoch not newer than the newest,
// is refused; but a reconnect is a new session, and it used to remember
// nothing. So a server that recorded bob's traffic could, after bob's next
// login, hand him alice's old key box and the messages it opens, and bob's
// client showed them again as new. Now the client keeps where it stopped
// reading each sender in a file (opened-counters.ts), and the next session
// starts from there. The "server" here is the harness's intercept, which
// injects the recorded frames into bob's second session.
import path from 'node:path';
import { OpenedCounters } from '../../shared/src/opened-counters';
import type { ShownFrame } from '../src/client-login';
import { join, startTestServer, type TestMember, type TestServer } from './harness';

let t: TestServer;
const members: TestMember[] = [];
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  for (const m of members.splice(0)) m.login.socket.destroy();
  await t.close();
});

test("a recorded key box and its messages, replayed after bob's reconnect, are refused", async () => {
  const file = path.join(t.dir, 'bob.opened-counters');
  const recorded: ShownFrame[] = [];
  const alice = await join(t, 'alice');
  const opened = OpenedCounters.load(file);
  const bob = await join(t, 'bob', {
    opened,
    intercept: (frame) => {
      if (frame.type === 'sender-key' || frame.type === 'e2e-chat') recorded.push(frame);
      return [frame];
    },
  });
  members.push(alice, bob);
  await alice.waitForFrame((f) => f.type === 'joined' && f.who === 'bob');
  alice.room.say('one');
  alice.room.say('two');
  await bob.waitFor('chat', 'two');
  await bob.leave();
  opened.close(); // what the client does when a run ends
  await alice.waitForFrame((f) => f.type === 'left' && f.who === 'bob');

  // Bob's next login. After alice's keys arrive, the server slips in the recording.
  const again = await join(t, 'bob', {
    register: false,
    identity: bob.identity,
    opened: OpenedCounters.load(file),
    intercept: (frame) =>
      frame.type === 'member' && frame.user === 'alice' ? [frame, ...recorded] : [frame],
  });
  members.push(again);
  await again.waitForFrame((f) => f.type === 'member' && f.user === 'alice');
  expect(recorded.map((f) => f.type)).toEqual(['sender-key', 'e2e-chat', 'e2e-chat']);
  expect(again.chat).toEqual([]);
  expect(again.warnings.join('\n')).toMatch(/REPLAYED/);

  // What alice says now (a new epoch: bob had left) still reaches him, once
  // she knows he is back.
  const afterTheLeave = (f: ShownFrame) =>
    alice.frames.indexOf(f) > alice.frames.findIndex((g) => g.type === 'left');
  await alice.waitForFrame((f) => f.type === 'joined' && f.who === 'bob' && afterTheLeave(f));
  alice.room.say('three');
  expect(await again.waitFor('chat', 'three')).toMatch(/alice.*three/);
  expect(again.chat).toHaveLength(1);
});
