/**
 * Pairwise boxes: bytes sealed to one member's X25519 key and signed by the
 * sender's Ed25519 key. They carry sender keys from one member to another.
 *
 * Introduced by stage 8. The shape is HPKE's base mode (RFC 9180), built from
 * `node:crypto` parts, plus a signature:
 *
 * ```text
 * e, E        = fresh X25519 key pair, for this box only ("ephemeral")
 * shared      = X25519(e, recipient's agreement key)
 * key | nonce = HKDF-SHA256(shared, salt = none,
 *                 info = record("socket-chat v8 pairwise box key",
 *                               sender, recipient, E, recipient's agreement key), 32 + 12)
 * box         = AES-256-GCM(key, nonce, plaintext)          (ciphertext | tag)
 * signature   = Ed25519(sender's signing key,
 *                 record("socket-chat v8 pairwise box signature",
 *                        sender, recipient, E, recipient's agreement key, box))
 * ```
 *
 * - **Ephemeral key**: a new key pair per box, its private half dropped after
 *   sealing. Stealing the sender's long-term keys later opens no old box.
 * - **HKDF** turns the raw Diffie-Hellman output (a curve point, not uniformly
 *   random bytes) into a key, and its `info` binds the key to both public keys
 *   and both names: a box re-addressed to someone else derives another key.
 * - **Derived nonce**: the AES key is new for every box, so a nonce fixed by
 *   the key schedule is never reused (HPKE does the same). A random one would
 *   add 12 bytes and nothing else.
 * - **Signature**: X25519 alone says nothing about the sender; anyone can
 *   seal a box to bob. The Ed25519 signature over everything (ciphertext
 *   included: encrypt, then sign) tells bob it was alice, and he checks it
 *   *before* any Diffie-Hellman or decryption work.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes';
import { TAG_BYTES } from './crypto';
import { E2E_LABELS } from './e2e-labels';
import { ChatError } from './errors';
import {
  KEY_BYTES_25519,
  privateKeyFromRaw,
  publicKeyFromRaw,
  rawPublicKey,
  SIGNATURE_BYTES,
  type Identity,
  type MemberKeys,
} from './identity-keys';
import { base64Field } from './protocol';
import { checkFields } from './wire-fields';

/** The largest plaintext a pairwise box carries: sender keys are 52 bytes; leave room. */
export const MAX_PAIRWISE_PLAINTEXT = 1024;

/** A sealed, signed pairwise box. */
export interface PairwiseBox {
  /** The sender's ephemeral X25519 public key, raw (32 bytes). */
  ephemeralKey: Buffer;
  /** AES-256-GCM ciphertext then tag. */
  box: Buffer;
  /** The sender's Ed25519 signature (64 bytes). */
  signature: Buffer;
}

/** A pairwise box as JSON fields (the frame adds `type` and `to`/`from`). */
export interface PairwiseBoxWire {
  /** Base64 of the ephemeral public key. */
  eph: string;
  /** Base64 of ciphertext and tag. */
  box: string;
  /** Base64 of the signature. */
  sig: string;
}

/** Field validators for a pairwise box, to spread into a stage's frame schema. */
export const PAIRWISE_BOX_FIELDS = {
  /** Ephemeral X25519 public key, base64. */
  eph: base64Field({ minBytes: KEY_BYTES_25519, maxBytes: KEY_BYTES_25519 }),
  /** Ciphertext and tag, base64. */
  box: base64Field({ minBytes: TAG_BYTES, maxBytes: MAX_PAIRWISE_PLAINTEXT + TAG_BYTES }),
  /** Ed25519 signature, base64. */
  sig: base64Field({ minBytes: SIGNATURE_BYTES, maxBytes: SIGNATURE_BYTES }),
} as const;

/** Options for {@link sealPairwise}. Production code passes none. */
export interface SealPairwiseOptions {
  /**
   * **Test vectors only**: the ephemeral X25519 private key, raw, instead of a
   * fresh one. A reused ephemeral key means a reused AES key and nonce for
   * that recipient: never pass it outside the vector generator.
   */
  testVectorEphemeral?: Uint8Array;
}

/**
 * Seals `plaintext` to `recipient` and signs it as `sender`.
 *
 * @param sender - my identity (signs)
 * @param recipient - the member's verified keys (its agreement key receives)
 * @param plaintext - at most {@link MAX_PAIRWISE_PLAINTEXT} bytes
 * @param options - leave out (test vectors only)
 */
export function sealPairwise(
  sender: Identity,
  recipient: MemberKeys,
  plaintext: Uint8Array,
  options: SealPairwiseOptions = {},
): PairwiseBox {
  if (plaintext.length > MAX_PAIRWISE_PLAINTEXT)
    throw new RangeError('pairwise plaintext too long');
  const ephemeral = ephemeralKey(options.testVectorEphemeral);
  const ephemeralKeyRaw = ephemeral.publicKey;
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: recipient.agreementKeyObject,
  });
  const { key, nonce } = boxKey(shared, sender.username, recipient, ephemeralKeyRaw);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  const box = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  const signed = signedBytes(sender.username, recipient, ephemeralKeyRaw, box);
  return {
    ephemeralKey: ephemeralKeyRaw,
    box,
    signature: sign(null, signed, sender.signingPrivateKey),
  };
}

/**
 * Verifies a pairwise box's signature, then opens it.
 *
 * @param recipient - my identity (its agreement key opens)
 * @param sender - the verified keys of the member the server says sent it
 * @param sealed - the box
 * @returns the plaintext
 * @throws ChatError `BAD_SIGNATURE` if `sender` did not sign exactly this box for me
 * @throws ChatError `DECRYPT_FAILED` if it is signed but does not open (a broken sender)
 */
export function openPairwise(recipient: Identity, sender: MemberKeys, sealed: PairwiseBox): Buffer {
  const signed = signedBytes(sender.username, recipient, sealed.ephemeralKey, sealed.box);
  if (
    sealed.signature.length !== SIGNATURE_BYTES ||
    !verify(null, signed, sender.signingKeyObject, sealed.signature)
  ) {
    throw new ChatError(
      'BAD_SIGNATURE',
      `a key box said to be from ${sender.username} is not signed by them`,
    );
  }
  let shared: Buffer;
  try {
    shared = diffieHellman({
      privateKey: recipient.agreementPrivateKey,
      publicKey: publicKeyFromRaw('X25519', sealed.ephemeralKey),
    });
  } catch {
    throw new ChatError('DECRYPT_FAILED', 'the ephemeral key of a key box is not usable');
  }
  const { key, nonce } = boxKey(shared, sender.username, recipient, sealed.ephemeralKey);
  if (sealed.box.length < TAG_BYTES) throw new ChatError('DECRYPT_FAILED', 'key box too short');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.box.subarray(sealed.box.length - TAG_BYTES));
  const candidate = decipher.update(sealed.box.subarray(0, sealed.box.length - TAG_BYTES));
  key.fill(0);
  try {
    decipher.final();
  } catch {
    candidate.fill(0);
    throw new ChatError('DECRYPT_FAILED', `a key box from ${sender.username} does not open`);
  }
  return candidate;
}

/** A pairwise box's AES-256-GCM key and nonce, from HKDF. */
export interface BoxKey {
  /** The first 32 bytes of the HKDF output. */
  key: Buffer;
  /** The last 12 bytes of the HKDF output. */
  nonce: Buffer;
}

/**
 * The AES key and nonce of a box, exported for the test vectors (an
 * independent implementation checks its key schedule against them).
 *
 * @param shared - the X25519 output
 * @param senderName - who seals
 * @param recipient - to whom (name and agreement key)
 * @param ephemeralKey - the raw ephemeral public key
 */
export function boxKey(
  shared: Uint8Array,
  senderName: string,
  recipient: Pick<MemberKeys, 'username' | 'agreementKey'>,
  ephemeralKey: Uint8Array,
): BoxKey {
  const info = new CanonicalWriter(E2E_LABELS.pairwiseKey)
    .string(senderName)
    .string(recipient.username)
    .bytes(ephemeralKey)
    .bytes(recipient.agreementKey)
    .finish();
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32 + 12));
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

/**
 * Encodes a box as JSON fields.
 *
 * @param sealed - the box
 */
export function encodePairwiseBox(sealed: PairwiseBox): PairwiseBoxWire {
  return {
    eph: sealed.ephemeralKey.toString('base64'),
    box: sealed.box.toString('base64'),
    sig: sealed.signature.toString('base64'),
  };
}

/**
 * Decodes JSON fields into a box, validating each one.
 *
 * @param wire - the fields (a raw decoded object is fine)
 * @throws ChatError `BAD_FRAME` if a field is missing, not base64, or the wrong size
 */
export function decodePairwiseBox(wire: unknown): PairwiseBox {
  const fields = checkFields(PAIRWISE_BOX_FIELDS, wire, 'key box');
  return {
    ephemeralKey: Buffer.from(fields.eph, 'base64'),
    box: Buffer.from(fields.box, 'base64'),
    signature: Buffer.from(fields.sig, 'base64'),
  };
}

function signedBytes(
  senderName: string,
  recipient: Pick<MemberKeys, 'username' | 'agreementKey'>,
  ephemeralKey: Uint8Array,
  box: Uint8Array,
): Buffer {
  return new CanonicalWriter(E2E_LABELS.pairwiseSignature)
    .string(senderName)
    .string(recipient.username)
    .bytes(ephemeralKey)
    .bytes(recipient.agreementKey)
    .bytes(box)
    .finish();
}

function ephemeralKey(fixed: Uint8Array | undefined): { privateKey: KeyObject; publicKey: Buffer } {
  if (fixed === undefined) {
    const pair = generateKeyPairSync('x25519');
    return { privateKey: pair.privateKey, publicKey: rawPublicKey(pair.publicKey) };
  }
  const privateKey = privateKeyFromRaw('x25519', fixed);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}
