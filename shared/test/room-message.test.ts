import { sign } from 'node:crypto';
import { ReceiverChains } from '../src/receiver-chains';
import {
  decodeRoomMessage,
  encodeRoomMessage,
  messageSignedBytes,
  openRoomMessage,
  sealRoomMessage,
  verifyRoomMessage,
  type RoomMessage,
} from '../src/room-message';
import { newChainKey, SenderChain } from '../src/sender-chain';
import fc from 'fast-check';
import { code, hostileFields, identityOf, onlyCodedErrors, publicOf } from './e2e-fixtures';

const alice = identityOf('alice');
const mallory = identityOf('mallory');

/** Alice's chain, and bob's receiver state holding her key. */
function room() {
  const start = { epoch: 42, counter: 0, chainKey: newChainKey() };
  const chain = new SenderChain(start);
  const bobChains = new ReceiverChains();
  bobChains.addSenderKey('alice', start);
  const send = (text: string) =>
    sealRoomMessage(alice, { epoch: chain.epoch, ...chain.next() }, text);
  return { chain, bobChains, send };
}

/** A message through JSON, as the server relays it (it stamps `from`). */
const relayed = (message: RoomMessage, from = message.sender) =>
  decodeRoomMessage(from, JSON.parse(JSON.stringify(encodeRoomMessage(message))));

describe('room message', () => {
  test('alice seals and signs; bob verifies and opens; the text survives JSON', () => {
    const { bobChains, send } = room();
    const text = 'héllo 👋 "quoted" \\ and\nnewline';
    expect(openRoomMessage(relayed(send(text)), publicOf(alice), bobChains)).toBe(text);
  });

  test('a forged message (valid encryption, wrong signer) is BAD_SIGNATURE and does not advance the chain', () => {
    const { chain, bobChains, send } = room();
    // Mallory is in the room, so she holds alice's chain key: she can seal a
    // message that opens. She cannot sign it with alice's key.
    const stolen = new SenderChain(chain.senderKey());
    const { counter, messageKey } = stolen.next();
    const forged = sealRoomMessage(
      { ...mallory, username: 'alice' },
      { epoch: 42, counter, messageKey },
      'send your password to mallory',
    );
    expect(() => openRoomMessage(relayed(forged), publicOf(alice), bobChains)).toThrow(
      code('BAD_SIGNATURE'),
    );
    expect(openRoomMessage(relayed(send('genuine')), publicOf(alice), bobChains)).toBe('genuine');
  });

  test("a message relabelled by the server as from someone else fails that member's signature", () => {
    const { bobChains, send } = room();
    bobChains.addSenderKey('mallory', { epoch: 42, counter: 0, chainKey: newChainKey() });
    const message = relayed(send('hi'), 'mallory');
    expect(() => openRoomMessage(message, publicOf(mallory), bobChains)).toThrow(
      code('BAD_SIGNATURE'),
    );
  });

  test.each([
    ['epoch', (m: RoomMessage) => ({ ...m, epoch: m.epoch + 1 })],
    ['counter', (m: RoomMessage) => ({ ...m, counter: m.counter + 1 })],
    ['sender', (m: RoomMessage) => ({ ...m, sender: 'alicf' })],
    ['box', (m: RoomMessage) => ({ ...m, box: Buffer.concat([m.box, Buffer.from([0])]) })],
    [
      'signature',
      (m: RoomMessage) => ({ ...m, signature: Buffer.from(m.signature).fill(1, 0, 1) }),
    ],
  ])('a changed %s breaks the signature', (_field, change) => {
    const { send } = room();
    const message = send('hi');
    verifyRoomMessage(message, alice.signingKeyObject);
    expect(() => verifyRoomMessage(change(message), alice.signingKeyObject)).toThrow(
      code('BAD_SIGNATURE'),
    );
  });

  test('a replayed message is REPLAYED; a signed message under an unknown epoch is UNKNOWN_EPOCH', () => {
    const { bobChains, send } = room();
    const first = relayed(send('once'));
    expect(openRoomMessage(first, publicOf(alice), bobChains)).toBe('once');
    expect(() => openRoomMessage(first, publicOf(alice), bobChains)).toThrow(code('REPLAYED'));
    const other = new SenderChain({ epoch: 43, counter: 0, chainKey: newChainKey() });
    const unknown = sealRoomMessage(alice, { epoch: 43, ...other.next() }, 'new epoch');
    expect(() => openRoomMessage(unknown, publicOf(alice), bobChains)).toThrow(
      code('UNKNOWN_EPOCH'),
    );
  });

  test('signed by alice but sealed under another key: DECRYPT_FAILED, and the chain is unchanged', () => {
    const { bobChains, send } = room();
    const wrong = sealRoomMessage(
      alice,
      { epoch: 42, counter: 0, messageKey: newChainKey() },
      'sealed with a random key',
    );
    expect(() => openRoomMessage(wrong, publicOf(alice), bobChains)).toThrow(
      code('DECRYPT_FAILED'),
    );
    expect(openRoomMessage(send('first'), publicOf(alice), bobChains)).toBe('first');
  });

  test('after a signed message that does not open, its sender gets no more jumps ahead this epoch', () => {
    const { bobChains, send } = room();
    // A member can sign junk far ahead: each such message made bob step the
    // chain up to 1,000 times, and nothing kept him from paying again for
    // the next one (a review measured 28 times a normal refusal's cost).
    const junk = (counter: number) =>
      sealRoomMessage(alice, { epoch: 42, counter, messageKey: newChainKey() }, 'junk');
    expect(() => openRoomMessage(junk(1000), publicOf(alice), bobChains)).toThrow(
      code('DECRYPT_FAILED'),
    );
    // The next jump is refused before a single step.
    expect(() => openRoomMessage(junk(999), publicOf(alice), bobChains)).toThrow(
      code('MESSAGE_TOO_FAR_AHEAD'),
    );
    // In order, alice's messages still open; a jump of hers does not.
    expect(openRoomMessage(send('first'), publicOf(alice), bobChains)).toBe('first');
    send('dropped');
    expect(() => openRoomMessage(send('third'), publicOf(alice), bobChains)).toThrow(
      code('MESSAGE_TOO_FAR_AHEAD'),
    );
  });

  test('the signature covers canonical bytes, not JSON: a re-encoded frame still verifies', () => {
    const { send } = room();
    const wire = encodeRoomMessage(send('x'));
    const reordered = JSON.parse(
      `{"sig":"${wire.sig}","box":"${wire.box}","counter":${wire.counter}.0,"epoch":${wire.epoch}}`,
    ) as unknown;
    verifyRoomMessage(decodeRoomMessage('alice', reordered), alice.signingKeyObject);
    // …and a signature over the JSON text is not one over the record.
    const overJson = sign(null, Buffer.from(JSON.stringify(wire)), alice.signingPrivateKey);
    const jsonSigned = { ...decodeRoomMessage('alice', wire), signature: overJson };
    expect(() => verifyRoomMessage(jsonSigned, alice.signingKeyObject)).toThrow(
      code('BAD_SIGNATURE'),
    );
    expect(messageSignedBytes(jsonSigned).subarray(2, 39).toString()).toBe(
      'socket-chat v8 room message signature',
    );
  });

  test.each([
    ['a negative counter', { counter: -1 }],
    ['a counter over 2^32 - 1', { counter: 2 ** 32 }],
    ['a fractional epoch', { epoch: 1.5 }],
    ['an epoch as a string', { epoch: '42' }],
    ['a short box', { box: 'AAAA' }],
    ['a 63-byte signature', { sig: Buffer.alloc(63).toString('base64') }],
    ['a missing box', { box: undefined }],
  ])('%s is BAD_FRAME', (_name, change) => {
    const { send } = room();
    const wire = { ...encodeRoomMessage(send('x')), ...change };
    expect(() => decodeRoomMessage('alice', wire)).toThrow(code('BAD_FRAME'));
  });

  test('whatever arrives as a room message: opened, or a coded error, never a raw throw (property)', () => {
    const { send, bobChains } = room();
    const wire = encodeRoomMessage(send('hi')) as unknown as Record<string, unknown>;
    const aliceKeys = publicOf(alice);
    fc.assert(
      fc.property(hostileFields(wire), (fields) => {
        onlyCodedErrors(() => {
          openRoomMessage(decodeRoomMessage('alice', fields), aliceKeys, bobChains);
        });
      }),
      { numRuns: 2000 },
    );
  });

  test('a text over 4096 UTF-8 bytes is refused before sealing', () => {
    const { chain } = room();
    expect(() => sealRoomMessage(alice, { epoch: 42, ...chain.next() }, 'é'.repeat(2049))).toThrow(
      code('BAD_FRAME'),
    );
  });
});
