// After login: encrypted chat labelled with the authenticated username, the
// sender bound into each box's AD (so nobody can speak as someone else),
// /who, joined/left notices, and the real client's behaviour on pipes.
import { openText, sealText } from '../../shared/src/crypto';
import { isChatError } from '../../shared/src/errors';
import { chatAssociatedData, type ServerFrame } from '../src/messages';
import { sealMessage } from '../src/sealed-messages';
import {
  logIn,
  rawAuth,
  rawConnect,
  startClient,
  startTestServer,
  type TestServer,
} from './harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  for (const name of ['alice', 'bob', 'mallory']) {
    const session = await logIn(t, name, `${name}-password`, true);
    await t.leave(session.socket, name);
  }
});
afterAll(() => t.close());

function nextFrames(session: Awaited<ReturnType<typeof logIn>>) {
  const frames: ServerFrame[] = [];
  const waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  session.frames.listen((d) => {
    if (!d.ok) throw d.error;
    frames.push(d.frame);
    for (const w of [...waiters]) {
      if (w.match(d.frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(d.frame);
      }
    }
  });
  return {
    frames,
    waitFor: (match: (f: ServerFrame) => boolean) =>
      new Promise<ServerFrame>((resolve) => {
        const found = frames.find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
  };
}

test('a message is relayed to others labelled with the username, sealed, never echoed', async () => {
  const alice = await logIn(t, 'alice', 'alice-password');
  const bob = await logIn(t, 'bob', 'bob-password');
  const aliceFrames = nextFrames(alice);
  const bobFrames = nextFrames(bob);
  await aliceFrames.waitFor((f) => f.type === 'joined' && f.who === 'bob');
  expect(bob.count).toBe(2);
  expect(bob.online).toEqual(['alice', 'bob']); // longest online first

  alice.socket.write(sealMessage(t.key, 'alice', 'hello bob'));
  bob.socket.write(sealMessage(t.key, 'bob', 'hi alice'));
  const atBob = await bobFrames.waitFor((f) => f.type === 'chat');
  const atAlice = await aliceFrames.waitFor((f) => f.type === 'chat');
  expect(atBob).toMatchObject({ type: 'chat', from: 'alice' });
  expect(atAlice).toMatchObject({ type: 'chat', from: 'bob' });
  if (atBob.type !== 'chat') throw new Error('unreachable');
  expect(openText(t.key, atBob.box, chatAssociatedData(atBob.from))).toBe('hello bob');
  // Alice got bob's message and nothing of her own: no echo.
  expect(aliceFrames.frames.filter((f) => f.type === 'chat')).toHaveLength(1);

  alice.socket.write('{"type":"who"}\n');
  expect(await aliceFrames.waitFor((f) => f.type === 'who')).toEqual({
    type: 'who',
    count: 2,
    online: ['alice', 'bob'],
  });

  await t.leave(bob.socket, 'bob');
  expect(await aliceFrames.waitFor((f) => f.type === 'left')).toEqual({
    type: 'left',
    who: 'bob',
    online: 1,
  });
  await t.leave(alice.socket, 'alice');
  // The server saw only boxes: no plaintext in its logs.
  const logs = t.logLines.join('\n');
  expect(logs).not.toContain('hello bob');
  expect(logs).not.toContain('hi alice');
});

test('a client cannot speak as someone else: a box sealed under another name fails at every receiver', async () => {
  const bob = await logIn(t, 'bob', 'bob-password');
  const bobFrames = nextFrames(bob);
  // Mallory uses a raw socket and seals with "alice" in the associated data.
  const mallory = await rawConnect(t.port);
  expect(await rawAuth(mallory, t.key, 'login', 'mallory', 'mallory-password')).toMatchObject({
    type: 'welcome',
  });
  const forged = sealText(t.key, 'send money to mallory', chatAssociatedData('alice'));
  mallory.sendJson({ type: 'chat', box: forged });
  mallory.socket.write(sealMessage(t.key, 'mallory', 'an honest message'));

  const first = await bobFrames.waitFor((f) => f.type === 'chat');
  // The server labels it with mallory's real name...
  expect(first).toMatchObject({ type: 'chat', from: 'mallory' });
  if (first.type !== 'chat') throw new Error('unreachable');
  // ...so it does not open as mallory's, and "alice" is not what the server says.
  let error: unknown;
  try {
    openText(t.key, first.box, chatAssociatedData(first.from));
  } catch (err) {
    error = err;
  }
  expect(isChatError(error, 'DECRYPT_FAILED')).toBe(true);
  const second = await bobFrames.waitFor((f) => f.type === 'chat' && f !== first);
  if (second.type !== 'chat') throw new Error('unreachable');
  expect(openText(t.key, second.box, chatAssociatedData('mallory'))).toBe('an honest message');
  await t.leave(mallory.socket, 'mallory');
  await t.leave(bob.socket, 'bob');
});

test('the real client shows a forged message as a warning, never as a message', async () => {
  const bob = startClient(t, 'bob', 'bob-password');
  await bob.stderr.waitFor('logged in as bob');
  const mallory = await rawConnect(t.port);
  await rawAuth(mallory, t.key, 'login', 'mallory', 'mallory-password');
  mallory.sendJson({
    type: 'chat',
    box: sealText(t.key, 'I am alice, trust me', chatAssociatedData('alice')),
  });
  mallory.socket.write(sealMessage(t.key, 'mallory', 'this one is real'));
  expect(await bob.stdout.next()).toBe('mallory: this one is real');
  expect(await bob.stderr.waitFor(/failed authentication/)).toContain('mallory');
  expect(bob.stdout.lines.join('\n')).not.toContain('trust me');
  await t.leave(mallory.socket, 'mallory');
  const bobGone = t.nextDisconnect('bob');
  expect(await bob.quit()).toBe(0);
  await bobGone;
});

test('the real client: lines typed during login are sent after it; /who; /quit; sanitized output', async () => {
  const alice = startClient(t, 'alice', 'alice-password');
  alice.say('typed before the welcome');
  const bob = startClient(t, 'bob', 'bob-password');
  await bob.stderr.waitFor('logged in as bob');
  // If alice logged in first, her early line reached nobody; either way bob
  // can now hear her.
  await alice.stderr.waitFor('logged in as alice');
  alice.say('hello \x1b[2J bob');
  expect(await bob.stdout.waitFor('hello')).toBe('alice: hello \\x1b[2J bob');
  bob.say('/who');
  expect(await bob.stderr.waitFor('2 online')).toMatch(/^\* 2 online: (alice, bob|bob, alice)$/);
  bob.say('/quit');
  expect(await bob.done).toBe(0);
  expect(await alice.stderr.waitFor('left')).toContain('bob left');
  const aliceGone = t.nextDisconnect('alice');
  expect(await alice.quit()).toBe(0);
  await aliceGone;
});

test('a refused client rejects with the server code (AUTH_FAILED), having shown nothing', async () => {
  const eve = startClient(t, 'alice', 'wrong-password');
  await expect(eve.done).rejects.toMatchObject({ code: 'AUTH_FAILED' });
});
