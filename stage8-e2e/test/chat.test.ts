// The stage 8 server and client, end to end over real TLS on port 0: members
// chat, the server relays boxes it cannot open, and every refusal the core
// makes shows up as a warning in the real client wiring.
import path from 'node:path';
import { E2eSession } from '../../shared/src/e2e-session';
import { KnownServers } from '../../shared/src/known-servers';
import { encodeKeyBundle, generateIdentity } from '../../shared/src/identity-keys';
import { KnownMembers } from '../../shared/src/known-members';
import { privateKeyBytes } from '../../shared/src/identity-keys';
import type { ShownFrame } from '../src/client-login';
import { connectAndLogIn } from '../src/client-login';
import { signRoomMessageAs } from './forge';
import { join, PASSWORD, startTestServer, type TestMember, type TestServer } from './harness';

jest.setTimeout(60_000);

let t: TestServer;
const members: TestMember[] = [];
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  for (const m of members.splice(0)) m.login.socket.destroy();
  await t.close();
});
const enter = async (...args: Parameters<typeof join>) => {
  const m = await join(...args);
  members.push(m);
  return m;
};
type E2eChat = Extract<ShownFrame, { type: 'e2e-chat' }>;
type SenderKey = Extract<ShownFrame, { type: 'sender-key' }>;

test('two registered users chat end to end, both ways', async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  await alice.waitFor('notices', 'bob joined');
  alice.room.say('hello bob');
  expect(await bob.waitFor('chat', /^alice:/)).toBe('alice: hello bob');
  bob.room.say('hi alice');
  expect(await alice.waitFor('chat', /^bob:/)).toBe('bob: hi alice');
  expect([...alice.warnings, ...bob.warnings]).toEqual([]);
});

test('/verify prints the same safety number on both sides; /fingerprint is mine', async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  await alice.waitFor('notices', 'bob joined');
  const digitsAfter = (m: TestMember, heading: string) => {
    const at = m.notices.findIndex((l) => l.includes(heading));
    return m.notices.slice(at + 1, at + 4).join(' ');
  };
  expect(alice.room.command('/verify bob')).toBe(true);
  expect(bob.room.command('/verify alice')).toBe(true);
  const a = digitsAfter(alice, 'safety number with bob');
  const b = digitsAfter(bob, 'safety number with alice');
  expect(a).toMatch(/^(\*\s+(\d{5} ){3}\d{5} ?){3}$/);
  expect(a).toBe(b);
  bob.room.command('/fingerprint');
  const mine = bob.notices.find((l) => l.startsWith('* your fingerprint'))!;
  expect(mine).toMatch(/(\d{5} ){5}\d{5}$/);
});

test("the server's view (all traffic, its database, its logs) holds no plaintext and no private key", async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  await alice.waitFor('notices', 'bob joined');
  const secrets = ['the eagle lands at noon', 'meet by the old oak'];
  alice.room.say(secrets[0]!);
  await bob.waitFor('chat', secrets[0]!);
  bob.room.say(secrets[1]!);
  await alice.waitFor('chat', secrets[1]!);
  const view = [t.traffic.join(''), t.databaseBytes().toString('latin1'), t.logLines.join('')];
  const forbidden = [
    ...secrets,
    ...secrets.map((s) => Buffer.from(s).toString('base64')),
    ...[alice, bob].flatMap((m) => {
      const raw = privateKeyBytes(m.identity);
      return [raw.subarray(0, 32), raw.subarray(32)].flatMap((k) => [
        k.toString('base64'),
        k.toString('latin1'),
      ]);
    }),
  ];
  expect(t.traffic.join('')).toContain('"type":"e2e-chat"'); // the view is not empty
  for (const text of view) for (const secret of forbidden) expect(text).not.toContain(secret);
  // What the database does hold: both users' public keys.
  expect(await t.store.findUserKeys('alice')).toMatchObject({
    signingKey: alice.identity.signingKey,
  });
});

test('a forged message (valid box, signed by someone else) is refused and shown as a warning', async () => {
  const mallory = generateIdentity('mallory');
  // The server (here, a test standing in for a malicious one) re-signs
  // alice's real message with another key before bob gets it.
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob', {
    intercept: (frame) =>
      frame.type === 'e2e-chat' ? [signRoomMessageAs(frame as E2eChat, mallory)] : [frame],
  });
  await alice.waitFor('notices', 'bob joined');
  alice.room.say('transfer 10 coins');
  expect(await bob.waitFor('warnings', 'BAD_SIGNATURE')).toMatch(
    /^! BAD_SIGNATURE: refused a message from alice/,
  );
  expect(bob.chat).toEqual([]);
  expect(bob.warnings.join('\n')).not.toContain('transfer');
});

test('a replayed message is refused; the original is shown once', async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob', {
    intercept: (frame) => (frame.type === 'e2e-chat' ? [frame, frame] : [frame]),
  });
  await alice.waitFor('notices', 'bob joined');
  alice.room.say('only once');
  expect(await bob.waitFor('warnings', 'REPLAYED')).toMatch(
    /^! REPLAYED: refused a message from alice/,
  );
  expect(bob.chat).toEqual(['alice: only once']);
});

/**
 * The server, as the test's intercept of a member's frames: holds back the
 * chat messages numbered `held` (from 1), and hands them over after chat `after`.
 */
function withholding(held: number[], after: number) {
  const kept: ShownFrame[] = [];
  let chats = 0;
  return (frame: ShownFrame): ShownFrame[] => {
    if (frame.type !== 'e2e-chat') return [frame];
    chats++;
    if (held.includes(chats)) return (kept.push(frame), []);
    return chats === after ? [frame, ...kept.splice(0)] : [frame];
  };
}

test('a message the server withholds shows as missing, and as late when it comes after all', async () => {
  // The server (the test's intercept) holds alice's second message back and
  // hands it over after her fourth. Before, bob read "one, three, four, two"
  // with no sign that anything was missing or out of order.
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob', { intercept: withholding([2], 4) });
  await alice.waitFor('notices', 'bob joined');
  for (const text of ['one', 'two', 'three', 'four']) alice.room.say(text);
  await bob.waitFor('chat', 'alice: two');
  expect(bob.chat).toEqual(['alice: one', 'alice: three', 'alice: four', 'alice: two']);
  expect(bob.warnings).toEqual([
    '! 1 message from alice is missing: the server dropped or delayed it',
    '! the next message from alice is late: it was sent before ones already shown',
  ]);
});

test("an epoch's last messages, withheld, show as missing when the sender's next key comes", async () => {
  // The server (the test's intercept) holds back alice's last two messages
  // of an epoch. No later message of that epoch shows the gap; her next
  // epoch's key box says where the old one ended. Before, bob read "one,
  // four, two, three" with no warning at all.
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob', { intercept: withholding([2, 3], 4) });
  const carol = await enter(t, 'carol');
  await alice.waitFor('notices', 'carol joined');
  for (const text of ['one', 'two', 'three']) alice.room.say(text);
  await carol.waitFor('chat', 'alice: three');
  await carol.leave(); // alice's next line starts a new epoch
  await alice.waitFor('notices', 'carol left');
  alice.room.say('four');
  await bob.waitFor('chat', 'alice: three');
  expect(bob.chat).toEqual(['alice: one', 'alice: four', 'alice: two', 'alice: three']);
  const late = '! the next message from alice is late: it was sent before ones already shown';
  expect(bob.warnings).toEqual([
    '! 2 messages from alice are missing: the server dropped or delayed them',
    late,
    late, // late, not missing a second time
  ]);
});

test("a sender's whole epoch, withheld with its key box, shows as at least its messages missing", async () => {
  // The server keeps alice's second epoch from bob: its key box and its one
  // message. Her third epoch's key says the second ended after 1 message;
  // bob never held that epoch. Before, bob saw "one, three" and no warning.
  let keyBoxes = 0;
  let chats = 0;
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob', {
    intercept: (frame) => {
      if (frame.type === 'sender-key') return ++keyBoxes === 2 ? [] : [frame];
      if (frame.type === 'e2e-chat') return ++chats === 2 ? [] : [frame];
      return [frame];
    },
  });
  const carol = await enter(t, 'carol');
  const dave = await enter(t, 'dave');
  await alice.waitFor('notices', 'dave joined');
  alice.room.say('one');
  await dave.waitFor('chat', 'alice: one');
  for (const [leaver, text] of [
    [carol, 'two'],
    [dave, 'three'],
  ] as const) {
    await leaver.leave(); // alice's next line starts a new epoch
    await alice.waitFor('notices', `${leaver.identity.username} left`);
    alice.room.say(text);
  }
  await bob.waitFor('chat', 'alice: three');
  expect(bob.chat).toEqual(['alice: one', 'alice: three']);
  expect(bob.warnings).toEqual([
    '! at least 1 message from alice is missing: a key of theirs never reached you',
  ]);
});

test("after carol leaves, her recorded sender key opens none of alice's new messages", async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  const carol = await enter(t, 'carol');
  await alice.waitFor('notices', 'carol joined');
  alice.room.say('before the leave');
  await carol.waitFor('chat', 'before the leave');
  await bob.waitFor('chat', 'before the leave');
  const recordedBox = carol.frames.find((f) => f.type === 'sender-key') as SenderKey;
  const oldMessage = carol.frames.find((f) => f.type === 'e2e-chat') as E2eChat;

  await carol.leave();
  await alice.waitFor('notices', 'carol left');
  await bob.waitFor('notices', 'carol left');
  alice.room.say('after the leave');
  await bob.waitFor('chat', 'after the leave');
  const newMessage = bob.frames.filter((f) => f.type === 'e2e-chat').at(-1) as E2eChat;
  expect(newMessage.epoch).toBeGreaterThan(oldMessage.epoch); // alice rotated

  // Carol, with everything she recorded, in a fresh session.
  const stale = new E2eSession({
    identity: carol.identity,
    known: KnownMembers.inMemory(),
    firstEpoch: 1,
  });
  stale.addMember('alice', encodeKeyBundle(alice.identity));
  stale.receiveKeyBox('alice', recordedBox);
  expect(stale.open('alice', oldMessage)).toBe('before the leave'); // the record is real
  expect(() => stale.open('alice', newMessage)).toThrow(
    expect.objectContaining({ code: 'UNKNOWN_EPOCH' }),
  );
});

test("a key change is a loud warning; the member's messages are held until /trust", async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  await alice.waitFor('notices', 'bob joined');
  await alice.leave();
  await bob.waitFor('notices', 'alice left');

  const newKeys = generateIdentity('alice');
  const alice2 = await enter(t, 'alice', { register: false, identity: newKeys });
  expect(await bob.waitFor('warnings', 'MEMBER_KEY_CHANGED')).toMatch(/alice's key changed/);
  // Append-only: the new keys are current; the server kept the old row.
  expect((await t.store.findUserKeys('alice'))?.signingKey).toEqual(newKeys.signingKey);

  alice2.room.say('it is really me');
  expect(await bob.waitFor('warnings', /refused a message from alice/)).toMatch(
    /^! MEMBER_KEY_CHANGED/,
  );
  bob.room.command('/trust alice');
  expect(await bob.waitFor('notices', "alice's new key is trusted")).toBeDefined();
  alice2.room.say('now you can read me');
  expect(await bob.waitFor('chat', 'now you can read me')).toBe('alice: now you can read me');
  expect(bob.chat).not.toContain('alice: it is really me');
});

test('a key bundle not signed by its own key is BAD_SIGNATURE, and no account is made', async () => {
  const keys = encodeKeyBundle(generateIdentity('mallory'));
  const other = encodeKeyBundle(generateIdentity('mallory'));
  const error = await connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    trust: {
      knownServers: new KnownServers(path.join(t.dir, 'mallory.known_servers')),
      expectedFingerprint: t.certificate.fingerprint,
    },
    username: 'mallory',
    register: true,
    keys: { ...keys, signature: other.signature },
    password: () => Promise.resolve(PASSWORD),
    retries: 0,
  }).catch((err: unknown) => err);
  expect(error).toMatchObject({ code: 'BAD_SIGNATURE' });
  expect(await t.store.findUser('mallory')).toBeUndefined();
  expect(await t.store.findUserKeys('mallory')).toBeUndefined();
});

test('/verify of someone not in the room asks the server for their stored keys; an unknown name is NO_KEYS', async () => {
  const alice = await enter(t, 'alice');
  const carol = await enter(t, 'carol');
  await alice.waitFor('notices', 'carol joined');
  alice.room.command('/verify carol');
  await alice.waitFor('notices', 'safety number with carol;');
  const inRoom = alice.notices.slice(-3).join(' ');
  await carol.leave();
  await alice.waitFor('notices', 'carol left');
  alice.room.command('/verify carol');
  await alice.waitFor('notices', 'safety number with carol (from the server');
  expect(alice.notices.slice(-3).join(' ')).toBe(inRoom);
  alice.room.command('/verify nobody');
  expect(await alice.waitFor('warnings', 'NO_KEYS')).toMatch(
    /no public keys are stored for nobody/,
  );
});

test('the server stamps `from` itself: a client frame carrying one is BAD_FRAME; a key box for someone gone is dropped', async () => {
  const alice = await enter(t, 'alice');
  alice.login.socket.write(
    JSON.stringify({
      type: 'e2e-chat',
      from: 'bob',
      epoch: 1,
      counter: 0,
      box: 'AAAA',
      sig: 'AAAA',
    }) + '\n',
  );
  expect(await alice.waitFor('warnings', 'BAD_FRAME')).toBeDefined();
  const box = {
    eph: Buffer.alloc(32).toString('base64'),
    box: Buffer.alloc(16).toString('base64'),
    sig: Buffer.alloc(64).toString('base64'),
  };
  alice.login.socket.write(JSON.stringify({ type: 'sender-key', to: 'nobody', ...box }) + '\n');
  alice.login.socket.write(JSON.stringify({ type: 'who' }) + '\n');
  await alice.waitFor('notices', '1 online');
  expect(alice.warnings).toHaveLength(1); // only the BAD_FRAME above
});

test('a well-formed message naming a sender is BAD_FRAME; one spelt another way is still relayed, from the sender', async () => {
  const alice = await enter(t, 'alice');
  const bob = await enter(t, 'bob');
  await alice.waitFor('notices', 'bob joined');
  const message = {
    type: 'e2e-chat',
    epoch: 1,
    counter: 0,
    box: Buffer.alloc(40).toString('base64'),
    sig: Buffer.alloc(64).toString('base64'),
  };
  // Right shape, plus a `from`: the server never takes the sender from the client.
  alice.login.socket.write(JSON.stringify({ ...message, from: 'carol' }) + '\n');
  expect(await alice.waitFor('warnings', 'BAD_FRAME')).toBeDefined();
  // Valid, but not as our clients write it (spaces, fields reordered): the
  // full decoder accepts it and the server stamps alice's name.
  const spelt = JSON.stringify({
    sig: message.sig,
    counter: 0,
    type: 'e2e-chat',
    epoch: 1,
    box: message.box,
  });
  alice.login.socket.write(spelt.replace(/,/g, ', ') + '\n');
  await bob.waitFor('warnings', 'alice'); // zero signature: bob refuses it, naming alice
  const relayed = bob.frames.filter((f) => f.type === 'e2e-chat');
  expect(relayed).toEqual([{ ...message, from: 'alice' }]);
  expect(bob.warnings).toHaveLength(1);
});

test('one keys look-up at a time per connection: a second one while the first is open is RATE_LIMITED', async () => {
  const alice = await enter(t, 'alice');
  const ask = JSON.stringify({ type: 'keys', user: 'alice' }) + '\n';
  alice.login.socket.write(ask + ask); // one write: both frames arrive in one read
  expect(await alice.waitFor('warnings', 'RATE_LIMITED')).toMatch(/one keys look-up at a time/);
  alice.login.socket.write(JSON.stringify({ type: 'who' }) + '\n'); // answered after the look-up
  await alice.waitFor('notices', '1 online');
  expect(alice.frames.filter((f) => f.type === 'keys')).toHaveLength(1);
});

test('close() resolves only once every connection has closed and its departure is logged', async () => {
  const users = ['ann', 'ben', 'cat'];
  for (const user of users) await enter(t, user);
  await t.server.close();
  // Each connection's 'close' handling (its session let go, its line logged)
  // is part of closing, not something that runs after it.
  const departures = t.logLines.filter((l) => l.includes('"event":"disconnect"'));
  expect(departures).toHaveLength(users.length);
});
