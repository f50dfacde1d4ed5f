// The stage 8 core end to end, through a relay that behaves like the server
// (and keeps its whole view): who can read what, after joins and leaves, and
// what a dishonest server or member cannot do.
import { open } from '../../shared/src/crypto';
import { identityFromPrivateKeys, privateKeyBytes } from '../../shared/src/identity-keys';
import { KnownMembers } from '../../shared/src/known-members';
import { decodePairwiseBox, openPairwise } from '../../shared/src/pairwise-box';
import {
  decodeRoomMessage,
  encodeRoomMessage,
  messageHeader,
  sealRoomMessage,
} from '../../shared/src/room-message';
import { decodeSenderKey, ratchetStep, SenderChain } from '../../shared/src/sender-chain';
import { bytesFrom, identityOf, publicOf } from '../../shared/test/e2e-fixtures';
import { Relay } from './relay';

const alice = identityOf('alice');
const bob = identityOf('bob');
const carol = identityOf('carol');

function threeMembers(): Relay {
  const relay = new Relay();
  for (const who of [alice, bob, carol]) relay.join(who);
  return relay;
}

describe('a room, end to end', () => {
  test('three members chat; each reads the others, in order, and nothing is refused', () => {
    const relay = threeMembers();
    relay.say('alice', 'hi all');
    relay.say('bob', 'hi alice');
    relay.say('alice', 'how are you?');
    relay.say('carol', 'fine');
    expect(relay.inbox('carol').lines).toEqual([
      'alice: hi all',
      'bob: hi alice',
      'alice: how are you?',
    ]);
    expect(relay.inbox('alice').lines).toEqual(['bob: hi alice', 'carol: fine']);
    for (const who of ['alice', 'bob', 'carol']) expect(relay.inbox(who).refused).toEqual([]);
  });

  test('a sender key goes to each member once per epoch: the second message carries no key boxes', () => {
    const relay = threeMembers();
    const first = relay.say('alice', 'one');
    const second = relay.say('alice', 'two');
    expect(first.map((f) => JSON.parse(f).type)).toEqual(['sender-key', 'sender-key', 'e2e-chat']);
    expect(second.map((f) => JSON.parse(f).type)).toEqual(['e2e-chat']);
  });

  test("after carol leaves, her recorded sender key opens none of the new epoch's messages", () => {
    const relay = threeMembers();
    const before = relay.say('alice', 'before carol left');
    // Carol (or whoever copies her state) records the key box alice sent her.
    const boxToCarol = before.map((f) => JSON.parse(f)).find((f) => f.to === 'carol');
    const recorded = decodeSenderKey(
      openPairwise(carol, publicOf(alice), decodePairwiseBox(boxToCarol)),
    );
    relay.leave('carol');
    const after = relay.say('alice', 'after carol left');
    const afterFrames = after.map((f) => JSON.parse(f));
    expect(afterFrames.map((f) => f.to).filter(Boolean)).toEqual(['bob']); // new key for bob only
    const message = decodeRoomMessage('alice', afterFrames.at(-1));
    expect(message.epoch).toBe(recorded.epoch + 1);
    expect(relay.inbox('bob').lines.at(-1)).toBe('alice: after carol left');

    // With the recorded chain key, try every message key of the next 2,000
    // steps, under the new message's header: none opens it.
    let chainKey = recorded.chainKey;
    const ad = messageHeader('alice', message.epoch, message.counter);
    let opened = 0;
    for (let i = 0; i < 2000; i++) {
      const step = ratchetStep(chainKey);
      chainKey = step.nextChainKey;
      try {
        open(step.messageKey, message.box, ad);
        opened++;
      } catch {
        /* DECRYPT_FAILED, as it should */
      }
    }
    expect(opened).toBe(0);
  });

  test('a member who stays connected but was dropped from the room gets UNKNOWN_EPOCH for new messages', () => {
    const relay = threeMembers();
    relay.say('alice', 'epoch one');
    relay.leave('carol'); // the others are told carol left…
    const after = relay.say('alice', 'epoch two');
    // …and a server that still forwards to her gives her nothing she can read.
    const carolView = new Relay();
    const carolSession = carolView.join(carol);
    carolView.announce('carol', alice);
    expect(() => carolSession.open('alice', JSON.parse(after.at(-1)!))).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_EPOCH' }),
    );
  });

  test('a newcomer reads what is said after it joined, and nothing from before', () => {
    const relay = threeMembers();
    const early = relay.say('alice', 'before dave');
    relay.join(identityOf('dave'));
    relay.say('alice', 'welcome dave');
    relay.deliver('dave', early.at(-1)!); // the server replays the early message to dave
    expect(relay.inbox('dave').lines).toEqual(['alice: welcome dave']);
    expect(relay.inbox('dave').refused).toEqual(['MESSAGE_TOO_OLD']);
  });

  test('a replayed message or key box is refused; the original was shown once', () => {
    const relay = threeMembers();
    const frames = relay.say('alice', 'once');
    const forBob = frames.filter((f) => [undefined, 'bob'].includes(JSON.parse(f).to));
    for (const frame of forBob) relay.deliver('bob', frame);
    expect(relay.inbox('bob').lines).toEqual(['alice: once']);
    expect(relay.inbox('bob').refused).toEqual(['REPLAYED', 'REPLAYED']);
  });

  test("a member forging a message in alice's name, with alice's chain key, is refused as BAD_SIGNATURE", () => {
    const relay = threeMembers();
    const frames = relay.say('alice', 'real').map((f) => JSON.parse(f));
    // Carol is a member: she opened alice's key box and holds her chain key,
    // so she can seal a message that decrypts. She cannot sign as alice.
    const boxToCarol = frames.find((f) => f.to === 'carol');
    const senderKey = decodeSenderKey(
      openPairwise(carol, publicOf(alice), decodePairwiseBox(boxToCarol)),
    );
    const stolen = new SenderChain(senderKey);
    stolen.next(); // past 'real'
    const forged = sealRoomMessage(
      { ...carol, username: 'alice' },
      { epoch: senderKey.epoch, ...stolen.next() },
      'alice says: send me your password',
    );
    relay.deliver(
      'bob',
      JSON.stringify({ type: 'e2e-chat', from: 'alice', ...encodeRoomMessage(forged) }),
    );
    expect(relay.inbox('bob').refused).toEqual(['BAD_SIGNATURE']);
    relay.say('alice', 'still fine'); // the forgery did not use up counter 1
    expect(relay.inbox('bob').lines).toEqual(['alice: real', 'alice: still fine']);
  });

  test("the relay's whole view holds no message text and no private key", () => {
    const relay = threeMembers();
    const texts = ['the secret plan is at noon', 'bring the 🔑', 'ok'];
    relay.say('alice', texts[0]!);
    relay.say('bob', texts[1]!);
    relay.say('carol', texts[2]!);
    const view = relay.traffic.join('\n');
    // Each identity's two raw private keys (not read through JWK: see identity-keys.ts).
    const secrets = [alice, bob, carol].flatMap((who) => {
      const bytes = privateKeyBytes(who);
      return [bytes.subarray(0, 32), bytes.subarray(32)];
    });
    for (const text of texts.filter((t) => t.length > 2)) expect(view).not.toContain(text);
    for (const key of secrets) {
      for (const encoding of ['base64url', 'base64', 'hex'] as const) {
        expect(view).not.toContain(key.toString(encoding));
      }
    }
  });

  test('both sides compute the same safety number; /fingerprint is one half of it', () => {
    const relay = new Relay();
    const a = relay.join(alice);
    const b = relay.join(bob);
    expect(a.safetyNumber('bob')).toBe(b.safetyNumber('alice'));
    expect(a.safetyNumber('bob')).toContain(b.fingerprint());
    expect(a.safetyNumber('nobody')).toBeNull();
  });

  test('a changed key is a loud warning; the member is held until accepted, then chats', () => {
    const relay = new Relay();
    const known = KnownMembers.inMemory();
    const a = relay.join(alice, known);
    relay.join(bob);
    relay.leave('bob');
    const bobAgain = identityOf('bob', 'new device');
    relay.join(bobAgain); // the server now publishes a different key for bob
    const warnings = relay.inbox('alice').warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      status: 'changed',
      warning: { code: 'MEMBER_KEY_CHANGED' },
    });

    relay.say('bob', 'is it me?');
    expect(relay.inbox('alice').refused).toContain('MEMBER_KEY_CHANGED');
    const held = relay.say('alice', 'not for the new bob yet');
    expect(held.filter((f) => JSON.parse(f).to === 'bob')).toEqual([]); // no key box to bob
    expect(relay.inbox('bob').refused).toContain('UNKNOWN_EPOCH');

    expect(a.safetyNumber('bob')).not.toBeNull(); // compared out of band, then:
    expect(a.acceptKey('bob')).toBe(true);
    relay.say('alice', 'welcome back');
    expect(relay.inbox('bob').lines).toContain('alice: welcome back');
    expect(known.signingKeyOf('bob')!.equals(bobAgain.signingKey)).toBe(true);
  });

  test('a server that flips a key back cannot get /trust to pin the key /verify did not show', () => {
    const relay = new Relay();
    const known = KnownMembers.inMemory();
    const a = relay.join(alice, known);
    relay.join(bob);
    const real = a.safetyNumber('bob');
    // The server publishes its own key for bob (alice is warned, bob held),
    // then bob's real key again, with no leave between.
    relay.announce('alice', identityOf('bob', 'the server'));
    relay.announce('alice', bob);
    // /verify shows the real key, which matches bob's phone; /trust must
    // then have nothing to accept. Before, the server's key was still held,
    // and /trust pinned it: the next key box to bob was sealed to the server.
    expect(a.safetyNumber('bob')).toBe(real);
    expect(a.acceptKey('bob')).toBe(false);
    expect(known.signingKeyOf('bob')!.equals(bob.signingKey)).toBe(true);
    relay.say('alice', 'still you?');
    expect(relay.inbox('bob').lines).toContain('alice: still you?');
  });

  test('a server publishing another key for me shows up as a change of my own key', () => {
    const relay = new Relay();
    relay.join(alice);
    const impostor = identityFromPrivateKeys('alice', bytesFrom('x'), bytesFrom('y'));
    relay.announce('alice', impostor);
    expect(relay.inbox('alice').warnings).toEqual([expect.objectContaining({ status: 'changed' })]);
  });
});
