/**
 * Replays every stage 8 test vector (docs/e2e-vectors.json) against the real
 * code, from the vector file's own inputs, and checks that the committed file
 * is what tools/e2e-vectors.ts produces today.
 */
import { createHmac, diffieHellman } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { open } from '../../shared/src/crypto';
import { E2E_LABELS } from '../../shared/src/e2e-labels';
import { lockIdentity, unlockIdentity } from '../../shared/src/identity-file';
import {
  encodeKeyBundle,
  identityFromPrivateKeys,
  keyBundleSignedBytes,
  publicKeyFromRaw,
  verifyKeyBundle,
} from '../../shared/src/identity-keys';
import { boxKey, decodePairwiseBox, openPairwise } from '../../shared/src/pairwise-box';
import { ReceiverChains } from '../../shared/src/receiver-chains';
import {
  decodeRoomMessage,
  messageHeader,
  messageSignedBytes,
  openRoomMessage,
  verifyRoomMessage,
} from '../../shared/src/room-message';
import { fingerprint, formatDigits, safetyNumber } from '../../shared/src/safety-number';
import {
  decodeSenderKey,
  encodeSenderKey,
  ratchetStep,
  SenderChain,
} from '../../shared/src/sender-chain';
import { buildE2eVectors, E2E_VECTORS_PATH, type E2eVectors } from '../e2e-vectors-build';

const ROOT = path.resolve(__dirname, '../..');
const vectors = JSON.parse(readFileSync(path.join(ROOT, E2E_VECTORS_PATH), 'utf8')) as E2eVectors;

const fromHex = (text: string) => Buffer.from(text, 'hex');
const identity = (i: 0 | 1) => {
  const v = vectors.identities[i]!;
  return identityFromPrivateKeys(
    v.username,
    fromHex(v.signingSeedHex),
    fromHex(v.agreementSeedHex),
  );
};
const alice = identity(0);
const bob = identity(1);

describe('stage 8 test vectors', () => {
  test('the committed JSON is what the generator produces now', async () => {
    // A mismatch means: run `npm run docs:generate` and commit the result.
    expect(vectors).toEqual(JSON.parse(JSON.stringify(await buildE2eVectors())));
  });

  test('labels: the file lists exactly the labels the code uses', () => {
    expect(vectors.labels).toEqual(E2E_LABELS);
  });

  test('identities: the seeds give the published keys, signed record and signature', () => {
    for (const [i, who] of [alice, bob].entries()) {
      const v = vectors.identities[i]!;
      expect(encodeKeyBundle(who)).toEqual(v.bundle);
      expect(
        keyBundleSignedBytes(who.username, who.signingKey, who.agreementKey).toString('hex'),
      ).toBe(v.bundleSignedBytesHex);
      verifyKeyBundle(v.username, v.bundle);
    }
  });

  test('sender key: the encoding is u64 epoch | u32 counter | u64 previous end | chain key', () => {
    const v = vectors.senderKey;
    const key = {
      epoch: v.epoch,
      counter: v.counter,
      previousEnd: v.previousEnd,
      chainKey: fromHex(v.chainKeyHex),
    };
    expect(encodeSenderKey(key).toString('hex')).toBe(v.encodedHex);
    expect(decodeSenderKey(fromHex(v.encodedHex))).toEqual(key);
  });

  test('pairwise box: X25519, then HKDF to key and nonce, then bob opens what alice sealed', () => {
    const v = vectors.pairwiseBox;
    const box = decodePairwiseBox(v.wire);
    const shared = diffieHellman({
      privateKey: bob.agreementPrivateKey,
      publicKey: publicKeyFromRaw('X25519', box.ephemeralKey),
    });
    expect(shared.toString('hex')).toBe(v.sharedSecretHex);
    const { key, nonce } = boxKey(shared, v.sender, bob, box.ephemeralKey);
    expect([key.toString('hex'), nonce.toString('hex')]).toEqual([v.keyHex, v.nonceHex]);
    const bobsView = verifyKeyBundle('alice', encodeKeyBundle(alice));
    expect(openPairwise(bob, bobsView, box).toString('hex')).toBe(v.plaintextHex);
  });

  test('chain: each step is HMAC(ck, 0x01) and HMAC(ck, 0x02)', () => {
    let chainKey = fromHex(vectors.chain.chainKeyHex);
    for (const step of vectors.chain.steps) {
      const hmac = (byte: number) =>
        createHmac('sha256', chainKey)
          .update(Buffer.from([byte]))
          .digest('hex');
      expect([hmac(1), hmac(2)]).toEqual([step.messageKeyHex, step.nextChainKeyHex]);
      chainKey = fromHex(step.nextChainKeyHex);
    }
    expect(vectors.roomMessage.messageKeyHex).toBe(vectors.chain.steps[0]!.messageKeyHex);
  });

  test('chain: the ratchet code (ratchetStep, SenderChain) reproduces every step', () => {
    const { chain, senderKey } = vectors;
    const sender = new SenderChain({
      epoch: senderKey.epoch,
      counter: 0,
      chainKey: fromHex(chain.chainKeyHex),
    });
    let chainKey: Buffer = fromHex(chain.chainKeyHex);
    for (const step of chain.steps) {
      const { messageKey, nextChainKey } = ratchetStep(chainKey);
      expect([messageKey.toString('hex'), nextChainKey.toString('hex')]).toEqual([
        step.messageKeyHex,
        step.nextChainKeyHex,
      ]);
      const next = sender.next();
      expect([next.counter, next.messageKey.toString('hex')]).toEqual([
        step.counter,
        step.messageKeyHex,
      ]);
      chainKey = nextChainKey;
    }
  });

  test('room message: header, signed record, signature and box all check out', () => {
    const v = vectors.roomMessage;
    const message = decodeRoomMessage(v.sender, v.wire);
    expect(messageHeader(v.sender, message.epoch, message.counter).toString('hex')).toBe(
      v.headerHex,
    );
    expect(messageSignedBytes(message).toString('hex')).toBe(v.signedBytesHex);
    verifyRoomMessage(message, alice.signingKeyObject);
    expect(message.box.subarray(0, 12).toString('hex')).toBe(v.nonceHex);
    expect(open(fromHex(v.messageKeyHex), message.box, fromHex(v.headerHex)).toString()).toBe(
      v.text,
    );
  });

  test('receiver: the deliveries get exactly the recorded answers', () => {
    const { messages, deliveries } = vectors.receiver;
    const chains = new ReceiverChains();
    const start = fromHex(vectors.chain.steps[0]!.nextChainKeyHex); // the chain key at counter 1
    chains.addSenderKey('alice', { epoch: vectors.senderKey.epoch, counter: 1, chainKey: start });
    const aliceKeys = verifyKeyBundle('alice', encodeKeyBundle(alice));
    const outcomes = deliveries.map(({ counter }) => {
      try {
        const message = decodeRoomMessage('alice', messages[counter]);
        return `opened: ${openRoomMessage(message, aliceKeys, chains)}`;
      } catch (err) {
        return (err as { code: string }).code;
      }
    });
    expect(outcomes).toEqual(deliveries.map((d) => d.outcome));
    expect(outcomes).toEqual(expect.arrayContaining(['REPLAYED', 'MESSAGE_TOO_OLD']));
  });

  test('safety number: fingerprints, digits and grouping', () => {
    const v = vectors.safetyNumber;
    expect(fingerprint(alice)).toBe(v.fingerprints.alice);
    expect(fingerprint(bob)).toBe(v.fingerprints.bob);
    expect(safetyNumber(bob, alice)).toBe(v.digits);
    expect(formatDigits(v.digits)).toBe(v.formatted);
  });

  test('identity file: the password unlocks alice; the fixed salt and nonce reproduce the file', async () => {
    const v = vectors.identityFile;
    const unlocked = await unlockIdentity(v.text, v.password);
    expect(encodeKeyBundle(unlocked)).toEqual(vectors.identities[0]!.bundle);
    const again = await lockIdentity(alice, v.password, {
      cost: v.cost,
      testVectorSalt: fromHex(v.saltHex),
      testVectorNonce: fromHex(v.nonceHex),
    });
    expect(again).toBe(v.text);
    await expect(unlockIdentity(v.text, 'wrong')).rejects.toEqual(
      expect.objectContaining({ code: 'KEY_LOCKED' }),
    );
  });
});
