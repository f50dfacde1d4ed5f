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
import { chatAssociatedData } from '../src/messages';
import { sealMessage } from '../src/sealed-messages';
import { logIn, startTestServer, type TestServer } from './harness';

const FLOOD = 300;

/** `count` chat frames from `sender`, numbered, in one buffer (one write). */
function flood(t: TestServer, sender: string, count: number): Buffer {
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => sealMessage(t.key, sender, `flood ${i}`)),
  );
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
