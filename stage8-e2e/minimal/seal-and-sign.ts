/**
 * The smallest signed-and-encrypted message between two users, with nothing
 * but `node:crypto`: `npm run stage8:minimal`.
 *
 * Each user has two key pairs, one per job: Ed25519 *signs*, X25519 *agrees*
 * on a secret. Alice seals a line to bob and signs it; bob checks the
 * signature, then opens it. Then one byte is flipped on the way, and bob
 * refuses the message before decrypting anything.
 *
 * The stage's real modules (shared/src/pairwise-box.ts and friends) do the
 * same with more care: labels, names and keys bound into the derivation, raw
 * keys on the wire, and typed errors.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/** A user: a name, and two key pairs. */
export interface User {
  /** Who. */
  name: string;
  /** Ed25519: signs. Its public half is the user's identity. */
  signing: KeyPair;
  /** X25519: agrees on a shared secret with someone else's X25519 key. */
  agreement: KeyPair;
}

/** A key pair, as `generateKeyPairSync` returns it. */
export interface KeyPair {
  /** Given to everyone. */
  publicKey: KeyObject;
  /** Never leaves its owner. */
  privateKey: KeyObject;
}

/** What travels from alice to bob. Every field is public. */
export interface Envelope {
  /** A fresh X25519 public key, made for this message only. */
  ephemeral: Buffer;
  /** AES-GCM nonce, ciphertext and tag. */
  nonce: Buffer;
  /** The encrypted text. */
  ciphertext: Buffer;
  /** GCM's authentication tag. */
  tag: Buffer;
  /** Alice's Ed25519 signature over all of the above. */
  signature: Buffer;
}

/** Makes a user with two new key pairs. */
export function makeUser(name: string): User {
  return {
    name,
    signing: generateKeyPairSync('ed25519'),
    agreement: generateKeyPairSync('x25519'),
  };
}

// Shared secret → AES key. The label keeps this key apart from any other use.
function aesKey(shared: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'minimal demo', 32));
}

// The signed bytes: fixed-length fields first, the one variable field last.
function signedBytes(e: Omit<Envelope, 'signature'>): Buffer {
  return Buffer.concat([e.ephemeral, e.nonce, e.tag, e.ciphertext]);
}

/** Alice encrypts `text` so only `to` can read it, and signs it. */
export function sealAndSign(from: User, to: User, text: string): Envelope {
  const ephemeral = generateKeyPairSync('x25519');
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: to.agreement.publicKey,
  });
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aesKey(shared), nonce);
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  const unsigned = {
    ephemeral: ephemeral.publicKey.export({ type: 'spki', format: 'der' }),
    nonce,
    ciphertext,
    tag: cipher.getAuthTag(),
  };
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), from.signing.privateKey) };
}

/** Bob checks the signature first, then decrypts. Returns null if the signature fails. */
export function verifyAndOpen(to: User, from: User, envelope: Envelope): string | null {
  if (!verify(null, signedBytes(envelope), from.signing.publicKey, envelope.signature)) {
    return null; // not from alice, or changed on the way: never decrypted
  }
  const shared = diffieHellman({
    privateKey: to.agreement.privateKey,
    publicKey: createPublicKey({ key: envelope.ephemeral, format: 'der', type: 'spki' }),
  });
  const decipher = createDecipheriv('aes-256-gcm', aesKey(shared), envelope.nonce);
  decipher.setAuthTag(envelope.tag);
  return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]).toString('utf8');
}

/**
 * Runs the demo and prints each step.
 *
 * @param print - where lines go (default stdout)
 */
export function main(print: (line: string) => void = console.log): void {
  const alice = makeUser('alice');
  const bob = makeUser('bob');
  print('alice and bob each make an Ed25519 key (signs) and an X25519 key (agrees)');

  const envelope = sealAndSign(alice, bob, 'meet at noon');
  print(
    `alice -> bob: ephemeral key ${envelope.ephemeral.length} B, nonce ${envelope.nonce.length} B, ` +
      `ciphertext ${envelope.ciphertext.length} B, tag ${envelope.tag.length} B, signature ${envelope.signature.length} B`,
  );
  print(`bob opens it: ${JSON.stringify(verifyAndOpen(bob, alice, envelope))}`);

  const flipped = { ...envelope, ciphertext: Buffer.from(envelope.ciphertext) };
  flipped.ciphertext[0]! ^= 0x01;
  print('one bit of the ciphertext is flipped on the way');
  const opened = verifyAndOpen(bob, alice, flipped);
  print(opened === null ? 'bob refuses it: the signature does not verify' : `bob opens ${opened}`);

  const mallory = makeUser('mallory');
  const forged = sealAndSign(mallory, bob, 'alice says: meet at midnight');
  const fromMallory = verifyAndOpen(bob, alice, forged);
  print(
    fromMallory === null
      ? "mallory seals a message to bob in alice's name: refused, it is not signed by alice"
      : `bob opens ${fromMallory}`,
  );
}

if (require.main === module) main();
