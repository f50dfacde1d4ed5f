/**
 * The stage 8 test vectors, computed: everything tools/e2e-vectors.ts writes
 * to docs/e2e-vectors.json.
 *
 * Every value comes from the real modules in shared/src, run with fixed
 * private keys, a fixed ephemeral key, fixed nonces, a fixed chain key and a
 * fixed salt, so the output only changes when the protocol does. An
 * independent client that reproduces these bytes interoperates: it derives
 * the same keys, builds the same signed records, and accepts and refuses the
 * same deliveries. Intermediate values (the X25519 output, the HKDF output,
 * each record before it is signed) are included to make a mismatch easy to
 * locate.
 *
 * Pure (no file system, no Prettier), so the replay test
 * (tools/test/e2e-vectors.test.ts) can import it.
 */

import { createHash, diffieHellman } from 'node:crypto';
import { E2E_LABELS } from '../shared/src/e2e-labels';
import { lockIdentity, type ScryptCost } from '../shared/src/identity-file';
import {
  encodeKeyBundle,
  identityFromPrivateKeys,
  keyBundleSignedBytes,
  privateKeyFromRaw,
  publicKeyFromRaw,
  verifyKeyBundle,
  type Identity,
  type KeyBundleWire,
} from '../shared/src/identity-keys';
import {
  boxKey,
  encodePairwiseBox,
  sealPairwise,
  type PairwiseBoxWire,
} from '../shared/src/pairwise-box';
import { ReceiverChains } from '../shared/src/receiver-chains';
import {
  decodeRoomMessage,
  encodeRoomMessage,
  messageHeader,
  messageSignedBytes,
  openRoomMessage,
  sealRoomMessage,
  type RoomMessageWire,
} from '../shared/src/room-message';
import { fingerprint, formatDigits, safetyNumber } from '../shared/src/safety-number';
import { encodeSenderKey, ratchetStep, SenderChain } from '../shared/src/sender-chain';

/** Where the vectors are written, relative to the repository root. */
export const E2E_VECTORS_PATH = 'docs/e2e-vectors.json';

// Fixed test keys. They protect nothing: they exist only here and in the
// vector file, which is why fixed nonces and a fixed ephemeral key are harmless.
const fixed = (label: string): Buffer =>
  createHash('sha256').update(`socket-chat e2e test vector: ${label}`).digest();
const nonce = (n: number): Buffer => {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(n, 8);
  return bytes;
};
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** One user's fixed keys and published bundle. */
export interface IdentityVector {
  /** The username (signed into the bundle). */
  username: string;
  /** The raw Ed25519 private key (seed), hex. */
  signingSeedHex: string;
  /** The raw X25519 private key, hex. */
  agreementSeedHex: string;
  /** The record the bundle signature covers, hex. */
  bundleSignedBytesHex: string;
  /** The bundle as JSON fields: raw public keys and signature, base64. */
  bundle: KeyBundleWire;
}

/** A sender key sealed from alice to bob. */
export interface PairwiseBoxVector {
  /** Who seals and signs. */
  sender: string;
  /** Who opens. */
  recipient: string;
  /** The ephemeral X25519 private key, hex (fixed here only). */
  ephemeralSeedHex: string;
  /** The plaintext: an encoded sender key, hex. */
  plaintextHex: string;
  /** X25519(ephemeral, recipient's agreement key), hex. */
  sharedSecretHex: string;
  /** HKDF output, first 32 bytes: the AES key, hex. */
  keyHex: string;
  /** HKDF output, last 12 bytes: the GCM nonce, hex. */
  nonceHex: string;
  /** The box as JSON fields. */
  wire: PairwiseBoxWire;
}

/** A sender key and its 52-byte encoding. */
export interface SenderKeyVector {
  /** The epoch. */
  epoch: number;
  /** The counter of the next message. */
  counter: number;
  /** Where the sender's previous epoch ended (0: this is its first). */
  previousEnd: number;
  /** The chain key, hex. */
  chainKeyHex: string;
  /** u64 epoch | u32 counter | u64 end of the previous epoch | chain key, hex. */
  encodedHex: string;
}

/** Three steps of the chain ratchet. */
export interface ChainVector {
  /** The chain key at the first counter, hex. */
  chainKeyHex: string;
  /** Each step: the message key for that counter and the next chain key. */
  steps: { counter: number; messageKeyHex: string; nextChainKeyHex: string }[];
}

/** One room message, sealed and signed. */
export interface RoomMessageVector {
  /** The sender. */
  sender: string;
  /** The plaintext. */
  text: string;
  /** The message key (the chain's key for this counter), hex. */
  messageKeyHex: string;
  /** The fixed GCM nonce, hex. */
  nonceHex: string;
  /** The GCM associated data (the header record), hex. */
  headerHex: string;
  /** The record the signature covers, hex. */
  signedBytesHex: string;
  /** The message as JSON fields (the server adds `from`). */
  wire: RoomMessageWire;
}

/** One delivery to a receiver, and what the receiver must answer. */
export interface DeliveryVector {
  /** Which message of `messages` is delivered (its counter, which is its index). */
  counter: number;
  /** `"opened: TEXT"`, or the error code it must be refused with. */
  outcome: string;
}

/** The whole file. */
export interface E2eVectors {
  /** What the file is and how to use it. */
  about: string;
  /** Every domain-separation label. */
  labels: typeof E2E_LABELS;
  /** alice and bob. */
  identities: IdentityVector[];
  /** Alice's sender key for the room. */
  senderKey: SenderKeyVector;
  /** That sender key sealed to bob. */
  pairwiseBox: PairwiseBoxVector;
  /** The ratchet from alice's chain key. */
  chain: ChainVector;
  /** Alice's first message. */
  roomMessage: RoomMessageVector;
  /**
   * Alice's first six messages (counters 0-5), and deliveries to a receiver
   * that was given her sender key at counter 1, with the answer to each.
   */
  receiver: { messages: RoomMessageWire[]; deliveries: DeliveryVector[] };
  /** Fingerprints and the safety number of alice and bob. */
  safetyNumber: { fingerprints: Record<string, string>; digits: string; formatted: string };
  /** Alice's identity file, sealed under a password (at the lowest accepted scrypt cost). */
  identityFile: {
    password: string;
    cost: ScryptCost;
    saltHex: string;
    nonceHex: string;
    text: string;
  };
}

const SEEDS = {
  alice: { signing: fixed('alice signing'), agreement: fixed('alice agreement') },
  bob: { signing: fixed('bob signing'), agreement: fixed('bob agreement') },
};
const EPOCH = 1_732_000_000_000;
const CHAIN_KEY = fixed('alice chain key, epoch 1732000000000');
const EPHEMERAL = fixed('ephemeral key of the pairwise box');
const TEXTS = ['hello, bob', 'one', 'two', 'three', 'four', 'five'];

function identityVector(identity: Identity, seeds: { signing: Buffer; agreement: Buffer }) {
  return {
    username: identity.username,
    signingSeedHex: hex(seeds.signing),
    agreementSeedHex: hex(seeds.agreement),
    bundleSignedBytesHex: hex(
      keyBundleSignedBytes(identity.username, identity.signingKey, identity.agreementKey),
    ),
    bundle: encodeKeyBundle(identity),
  };
}

/**
 * What the stage 8 frame vectors (tools/wire-vectors-stage8.ts) carry: the
 * same fixed bundles, key box and first message as this file's vectors, so
 * the frames in docs/wire-vectors.json are the records of
 * docs/e2e-vectors.json spread into JSON lines. Synchronous (no identity
 * file), so the wire vectors stay a synchronous build.
 */
export interface E2eWireMaterial {
  /** alice's and bob's published key bundles. */
  bundles: { alice: KeyBundleWire; bob: KeyBundleWire };
  /** alice's first sender key, sealed to bob (`pairwiseBox.wire`). */
  pairwiseBox: PairwiseBoxWire;
  /** alice's first room message (`roomMessage.wire`). */
  roomMessage: RoomMessageWire;
}

/** Computes {@link E2eWireMaterial} from the fixed keys. Deterministic. */
export function e2eWireMaterial(): E2eWireMaterial {
  const alice = identityFromPrivateKeys('alice', SEEDS.alice.signing, SEEDS.alice.agreement);
  const bob = identityFromPrivateKeys('bob', SEEDS.bob.signing, SEEDS.bob.agreement);
  const start = { epoch: EPOCH, counter: 0, chainKey: CHAIN_KEY, previousEnd: 0 };
  const box = sealPairwise(
    alice,
    verifyKeyBundle('bob', encodeKeyBundle(bob)),
    encodeSenderKey(start),
    {
      testVectorEphemeral: EPHEMERAL,
    },
  );
  const message = sealRoomMessage(
    alice,
    { epoch: EPOCH, ...new SenderChain(start).next() },
    TEXTS[0]!,
    {
      testVectorNonce: nonce(1),
    },
  );
  return {
    bundles: { alice: encodeKeyBundle(alice), bob: encodeKeyBundle(bob) },
    pairwiseBox: encodePairwiseBox(box),
    roomMessage: encodeRoomMessage(message),
  };
}

/** Computes every vector. */
export async function buildE2eVectors(): Promise<E2eVectors> {
  const alice = identityFromPrivateKeys('alice', SEEDS.alice.signing, SEEDS.alice.agreement);
  const bob = identityFromPrivateKeys('bob', SEEDS.bob.signing, SEEDS.bob.agreement);
  const bobKeys = verifyKeyBundle('bob', encodeKeyBundle(bob));
  const aliceKeys = verifyKeyBundle('alice', encodeKeyBundle(alice));

  const start = { epoch: EPOCH, counter: 0, chainKey: CHAIN_KEY, previousEnd: 0 };
  const plaintext = encodeSenderKey(start);
  const box = sealPairwise(alice, bobKeys, plaintext, { testVectorEphemeral: EPHEMERAL });
  const shared = diffieHellman({
    privateKey: privateKeyFromRaw('x25519', EPHEMERAL),
    publicKey: publicKeyFromRaw('X25519', bob.agreementKey),
  });
  const { key, nonce: boxNonce } = boxKey(shared, 'alice', bobKeys, box.ephemeralKey);

  const steps: ChainVector['steps'] = [];
  let chainKey = CHAIN_KEY;
  for (let counter = 0; counter < 3; counter++) {
    const step = ratchetStep(chainKey);
    steps.push({
      counter,
      messageKeyHex: hex(step.messageKey),
      nextChainKeyHex: hex(step.nextChainKey),
    });
    chainKey = step.nextChainKey;
  }

  const chain = new SenderChain(start);
  const sealed = TEXTS.map((text, i) => {
    const next = chain.next();
    const messageKeyHex = hex(next.messageKey);
    const message = sealRoomMessage(alice, { epoch: EPOCH, ...next }, text, {
      testVectorNonce: nonce(i + 1),
    });
    return { text, messageKeyHex, message };
  });
  const first = sealed[0]!;

  const cost = { logN: 14, r: 8, p: 1 };
  const salt = fixed('identity file salt').subarray(0, 16);
  const password = 'correct horse battery staple';
  const fileNonce = nonce(100);
  const fileText = await lockIdentity(alice, password, {
    cost,
    testVectorSalt: salt,
    testVectorNonce: fileNonce,
  });

  return {
    about:
      'Stage 8 test vectors, computed by tools/e2e-vectors-build.ts from the real modules with fixed keys, nonces, chain key and salt. Hex fields are raw bytes; wire fields are exactly what travels in JSON frames. See stage8-e2e/NOTES.md for the records and the rules.',
    labels: E2E_LABELS,
    identities: [identityVector(alice, SEEDS.alice), identityVector(bob, SEEDS.bob)],
    senderKey: {
      epoch: EPOCH,
      counter: 0,
      previousEnd: 0,
      chainKeyHex: hex(CHAIN_KEY),
      encodedHex: hex(plaintext),
    },
    pairwiseBox: {
      sender: 'alice',
      recipient: 'bob',
      ephemeralSeedHex: hex(EPHEMERAL),
      plaintextHex: hex(plaintext),
      sharedSecretHex: hex(shared),
      keyHex: hex(key),
      nonceHex: hex(boxNonce),
      wire: encodePairwiseBox(box),
    },
    chain: { chainKeyHex: hex(CHAIN_KEY), steps },
    roomMessage: {
      sender: 'alice',
      text: first.text,
      messageKeyHex: first.messageKeyHex,
      nonceHex: hex(nonce(1)),
      headerHex: hex(messageHeader('alice', EPOCH, 0)),
      signedBytesHex: hex(messageSignedBytes(first.message)),
      wire: encodeRoomMessage(first.message),
    },
    receiver: receiverVector(
      sealed.map((s) => encodeRoomMessage(s.message)),
      aliceKeys,
    ),
    safetyNumber: {
      fingerprints: { alice: fingerprint(alice), bob: fingerprint(bob) },
      digits: safetyNumber(alice, bob),
      formatted: formatDigits(safetyNumber(alice, bob)),
    },
    identityFile: {
      password,
      cost,
      saltHex: hex(salt),
      nonceHex: hex(fileNonce),
      text: fileText,
    },
  };
}

// A receiver given alice's sender key at counter 1 (it joined after message
// 0) gets these deliveries: in order, a jump, a late arrival from the window,
// replays, and a message from before it joined.
const DELIVERY_ORDER = [1, 3, 2, 3, 0, 5, 1, 4];

function receiverVector(
  messages: RoomMessageWire[],
  aliceKeys: ReturnType<typeof verifyKeyBundle>,
): E2eVectors['receiver'] {
  const chains = new ReceiverChains();
  chains.addSenderKey('alice', { epoch: EPOCH, counter: 1, chainKey: chainKeyAt(1) });
  const deliveries = DELIVERY_ORDER.map((counter) => {
    const wire = messages[counter]!;
    try {
      const text = openRoomMessage(decodeRoomMessage('alice', wire), aliceKeys, chains);
      return { counter, outcome: `opened: ${text}` };
    } catch (err) {
      return { counter, outcome: (err as { code: string }).code };
    }
  });
  return { messages, deliveries };
}

function chainKeyAt(counter: number): Buffer {
  let chainKey = CHAIN_KEY;
  for (let i = 0; i < counter; i++) chainKey = ratchetStep(chainKey).nextChainKey;
  return chainKey;
}
