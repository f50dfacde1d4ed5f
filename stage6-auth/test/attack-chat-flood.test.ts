// Attack: a member flooding the room with valid chat. Every limit before the
// message budget let it through: the frames are not errors (no error
// budget), and the turn limit only shares the event loop out. So the server
// relayed a flood as fast as it arrived, and wrote it as fast to everyone:
// each reader slower than the flood was cut off as a slow consumer, and
// another member's message waited behind the whole flood. Now each member
// has a message budget (a burst, then a steady pace); past it the server
// stops reading that socket until a token is back. Nothing is lost and the
// flooder gets no error: its messages go out at the budget's pace.
import { once } from 'node:events';
import { openText } from '../../shared/src/crypto';
import { DEFAULT_MESSAGE_BUDGET } from '../../shared/src/message-budget';
import type { LoggedIn } from '../src/client-login';
import { chatAssociatedData, encodeClientFrame } from '../src/messages';
import { sealMessage } from '../src/sealed-messages';
import { logIn, startClient, startTestServer, type TestServer } from './harness';

const FLOOD = 300;

/** `count` chat frames from `sender`, numbered, in one buffer (one write). */
function flood(t: TestServer, sender: string, count: number): Buffer {
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => sealMessage(t.key, sender, `flood ${i}`)),
  );
}

/**
 * Kills `member`'s client while the server still holds frames of its, and
 * waits until the server knows: its socket is paused, so only a write to
 * it (bob's chat, relayed) meets the reset. `who` round trips pace the tries.
 */
async function vanish(t: TestServer, member: LoggedIn, bob: LoggedIn): Promise<void> {
  let reset = false;
  void t.nextLog((r) => r.event === 'socket_error').then(() => (reset = true));
  member.socket.destroy();
  let answered: () => void = () => {};
  bob.frames.listen((d) => {
    if (d.ok && d.frame.type === 'who') answered();
  });
  // At most 8 tries: bob's own budget (a burst of 20, slow to refill here) must last.
  for (let i = 0; i < 8 && !reset; i++) {
    const who = new Promise<void>((resolve) => (answered = resolve));
    bob.socket.write(sealMessage(t.key, 'bob', `anyone there? ${i}`));
    bob.socket.write(encodeClientFrame({ type: 'who' }));
    await who;
  }
  expect(reset).toBe(true);
}

describe('with the default budget', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  test("a flood of valid chat does not hold another member's message back", async () => {
    const alice = await logIn(t, 'alice', 'alice-password', true);
    const bob = await logIn(t, 'bob', 'bob-password', true);
    const mallory = await logIn(t, 'mallory', 'mallory-password', true);
    let fromMallory = 0;
    let firstFromMallory!: () => void;
    const floodArrives = new Promise<void>((resolve) => (firstFromMallory = resolve));
    const seenBeforeAlice = new Promise<number>((resolve) =>
      bob.frames.listen((d) => {
        if (!d.ok || d.frame.type !== 'chat') return;
        if (d.frame.from === 'mallory' && ++fromMallory === 1) firstFromMallory();
        if (d.frame.from === 'alice') resolve(fromMallory);
      }),
    );
    const throttled = t.nextLog((r) => r.event === 'throttled');

    mallory.socket.write(flood(t, 'mallory', FLOOD));
    await floodArrives;
    alice.socket.write(sealMessage(t.key, 'alice', 'hello'));

    // The burst went through; the rest of the flood waits for tokens, so
    // alice's message overtakes it. Before the budget bob saw the flood's
    // first 64 frames (one turn's worth) before anything else could pass.
    const before = await seenBeforeAlice;
    expect(before).toBeGreaterThanOrEqual(DEFAULT_MESSAGE_BUDGET.capacity);
    expect(before).toBeLessThan(40);
    await throttled;
    expect(t.server.online.sort()).toEqual(['alice', 'bob', 'mallory']);
  }, 30_000);
});

describe('with a fast refill', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ messageBudget: { capacity: 20, refillMs: 2 } });
  });
  afterAll(() => t.close());

  test('the flood is slowed, not lost: every frame arrives, in order, and the flooder stays', async () => {
    const bob = await logIn(t, 'bob', 'bob-password', true);
    const mallory = await logIn(t, 'mallory', 'mallory-password', true);
    const errors: string[] = [];
    mallory.frames.listen((d) => {
      if (d.ok && d.frame.type === 'error') errors.push(d.frame.code);
    });
    const texts: string[] = [];
    const allArrived = new Promise<void>((resolve) =>
      bob.frames.listen((d) => {
        if (!d.ok || d.frame.type !== 'chat') return;
        texts.push(openText(t.key, d.frame.box, chatAssociatedData(d.frame.from)));
        if (texts.length === FLOOD) resolve();
      }),
    );

    mallory.socket.write(flood(t, 'mallory', FLOOD));
    await allArrived;

    expect(texts).toEqual(Array.from({ length: FLOOD }, (_, i) => `flood ${i}`));
    expect(errors).toEqual([]);
    expect(t.server.online.sort()).toEqual(['bob', 'mallory']);
    mallory.socket.end();
    await once(mallory.socket, 'close');
  }, 30_000);
});

// A script that pipes more lines than the burst into a client, which sends
// them and ends: the server read them all, handled the burst and held the
// rest for the budget; the client's FIN closed the connection, and what was
// held was dropped (20 of 30 arrived). Now the session outlives its socket
// until the held frames are paced out, at the budget's pace (relaying them
// at once would let anyone skip the budget by closing), and then it leaves.
describe('a member that sends past the burst and then ends', () => {
  const REFILL_MS = 50;
  const SENT = 30;
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ messageBudget: { capacity: 20, refillMs: REFILL_MS } });
  });
  afterAll(() => t.close());

  test('loses nothing: every frame arrives, in order and paced, then `left`', async () => {
    const bob = await logIn(t, 'bob', 'bob-password', true);
    const mallory = await logIn(t, 'mallory', 'mallory-password', true);
    const seen: string[] = [];
    const at: number[] = [];
    const leftSeen = new Promise<void>((resolve) =>
      bob.frames.listen((d) => {
        if (!d.ok) return;
        if (d.frame.type === 'left') {
          seen.push(`left ${d.frame.who}`);
          resolve();
        } else if (d.frame.type === 'chat') {
          seen.push(openText(t.key, d.frame.box, chatAssociatedData(d.frame.from)));
          at.push(performance.now());
        }
      }),
    );

    mallory.socket.end(flood(t, 'mallory', SENT));
    await once(mallory.socket, 'close');
    const closedAt = performance.now();
    await leftSeen;

    expect(seen).toEqual([...Array.from({ length: SENT }, (_, i) => `flood ${i}`), 'left mallory']);
    // Paced: the ten past the burst came one refill apart, not at once.
    expect(at[SENT - 1]! - at[19]!).toBeGreaterThanOrEqual(6 * REFILL_MS);
    // And the server answered mallory's FIN only then: a client waiting for
    // that answer sees its last message go out before it exits.
    expect(closedAt - at[19]!).toBeGreaterThanOrEqual(6 * REFILL_MS);
    expect(t.server.online).toEqual(['bob']);
  }, 30_000);

  test('a client still waiting for its held frames gives way when its user logs in again', async () => {
    const h = await startTestServer({ messageBudget: { capacity: 20, refillMs: 3_600_000 } });
    try {
      const mallory = await logIn(h, 'mallory', 'mallory-password', true);
      const throttled = h.nextLog((r) => r.event === 'throttled');
      mallory.socket.end(flood(h, 'mallory', 30));
      await throttled; // ten held for an hour, and the old client waits for them
      const oldClosed = once(mallory.socket, 'close');
      const again = await logIn(h, 'mallory', 'mallory-password');
      await oldClosed; // the old client gets our FIN now
      expect(h.server.online).toEqual(['mallory']);
      again.socket.destroy();
    } finally {
      await h.close();
    }
  }, 30_000);

  test('a member whose client vanished while frames were held gives way when its user logs in again', async () => {
    const hold = { capacity: 20, refillMs: 3_600_000 };
    const h = await startTestServer({ messageBudget: hold });
    try {
      const bob = await logIn(h, 'bob', 'bob-password', true);
      const mallory = await logIn(h, 'mallory', 'mallory-password', true);
      const throttled = h.nextLog((r) => r.event === 'throttled');
      mallory.socket.end(flood(h, 'mallory', 30));
      await throttled; // ten held for an hour; the server has not answered the FIN
      await vanish(h, mallory, bob);
      // Before: ALREADY_LOGGED_IN for the hour the held frames needed.
      const again = await logIn(h, 'mallory', 'mallory-password');
      expect(again.username).toBe('mallory');
      expect(h.server.online.sort()).toEqual(['bob', 'mallory']);
      again.socket.destroy();
      bob.socket.destroy();
    } finally {
      await h.close();
    }
  }, 30_000);
});

describe('a shutdown while a member that ended still has frames held', () => {
  test('ends its session at once: `left`, then `bye`, and close() does not wait for the budget', async () => {
    const t = await startTestServer({ messageBudget: { capacity: 20, refillMs: 60_000 } });
    const bob = await logIn(t, 'bob', 'bob-password', true);
    const mallory = await logIn(t, 'mallory', 'mallory-password', true);
    const seen: string[] = [];
    const burstOut = t.nextLog((r) => r.event === 'throttled');
    mallory.socket.end(flood(t, 'mallory', 30));
    await burstOut;
    await vanish(t, mallory, bob);
    expect(t.server.online.sort()).toEqual(['bob', 'mallory']); // held, so still here

    bob.frames.listen((d) => {
      if (d.ok && d.frame.type !== 'chat' && d.frame.type !== 'who') seen.push(d.frame.type);
    });
    const bobClosed = once(bob.socket, 'close');
    await t.close();
    await bobClosed;
    expect(seen).toEqual(['left', 'bye']);
    expect(t.countLogs((r) => r.event === 'disconnect' && r.user === 'mallory')).toBe(1);
  }, 30_000);
});

// The same script with more lines than the server reads ahead: the rest
// waits in the kernel's buffers until the budget lets the server read on.
// The client used to close 3 s after its FIN; the server's next write to it
// (anyone's chat, in a busy room) met a closed port, the reset threw away
// what was still unread, and 897 of 3,000 arrived. Now the client waits as
// long as the budget needs (shared/src/relay-pace.ts).
describe('a real client piping more than the server reads ahead, in a busy room', () => {
  test('waits for the server to let it all through: nothing is lost', async () => {
    const budget = { capacity: 20, refillMs: 2 };
    const t = await startTestServer({ messageBudget: budget });
    const LINES = 3000;
    try {
      const bob = await logIn(t, 'bob', 'bob-password', true);
      const texts: string[] = [];
      const gone = new Promise<void>((resolve) =>
        bob.frames.listen((d) => {
          if (!d.ok) return;
          if (d.frame.type === 'left') resolve();
          if (d.frame.type === 'chat' && d.frame.from === 'alice') {
            texts.push(openText(t.key, d.frame.box, chatAssociatedData('alice')));
          }
        }),
      );
      const busy = setInterval(() => bob.socket.write(sealMessage(t.key, 'bob', 'hi')), 50);
      const alice = startClient(t, 'alice', 'alice-password', true, { serverBudget: budget });
      await alice.stderr.waitFor(/logged in as alice/);
      for (let i = 0; i < LINES; i++) alice.say(`line ${i}`);
      await alice.quit();
      await gone;
      clearInterval(busy);
      expect(texts).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i}`));
      expect(alice.stderr.lines.join('\n')).toMatch(
        /your last \d+ messages go out at the server's pace/,
      );
      bob.socket.destroy();
    } finally {
      await t.close();
    }
  }, 60_000);
});
