/**
 * Identity keys: each user's two key pairs, and the signed bundle that
 * publishes their public halves.
 *
 * Introduced by stage 8. A user has **two** key pairs, one per job:
 *
 * - an **Ed25519** key that *signs* (key bundles, pairwise boxes, room
 *   messages). Its public half is the user's identity: trust on first use,
 *   fingerprints and safety numbers are about this key.
 * - an **X25519** key that *agrees* (a sender turns it and an ephemeral key
 *   into a shared secret to seal a box only this user can open).
 *
 * One key per purpose: the two algorithms work on the same curve, and a key
 * can be converted between them, but using one secret for both signing and
 * Diffie-Hellman gives an attacker two oracles over one secret, and the
 * security proofs of each assume the key is used for nothing else. Two keys
 * cost 32 bytes more.
 *
 * The **bundle** ties them: the Ed25519 key signs a record of the username and
 * the X25519 key. Whoever trusts alice's signing key can then check that the
 * X25519 key the server hands out is alice's, and that the server did not
 * relabel bob's bundle as alice's (the username is signed too).
 *
 * **On the wire**, each public key is its raw 32 bytes in base64 (44
 * characters), not an SPKI structure: raw keys are what the specifications
 * (RFC 7748, RFC 8032) define and what libsodium, Signal and age exchange;
 * SPKI only adds a 12-byte ASN.1 header naming the algorithm, which the
 * field name already fixes. Letting a peer's bytes choose the algorithm is how
 * algorithm-confusion bugs start, and an ASN.1 parser is more attack surface
 * than a length check.
 *
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes';
import { E2E_LABELS } from './e2e-labels';
import { ChatError } from './errors';
import { base64Field } from './protocol';
import { checkFields } from './wire-fields';

/** Length of a raw Ed25519 or X25519 public key, and of a private key seed. */
export const KEY_BYTES_25519 = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** A user's public keys, raw, as published and as recorded by other members. */
export interface PublicKeys {
  /** The username the bundle was signed for. */
  username: string;
  /** Raw Ed25519 public key: the identity (32 bytes). */
  signingKey: Buffer;
  /** Raw X25519 public key: where pairwise boxes are sealed to (32 bytes). */
  agreementKey: Buffer;
  /** Ed25519 signature by `signingKey` over the bundle record (64 bytes). */
  signature: Buffer;
}

/** A member's verified public keys, with Node key objects ready to use. */
export interface MemberKeys extends PublicKeys {
  /** `signingKey` as a key object, for `crypto.verify`. */
  signingKeyObject: KeyObject;
  /** `agreementKey` as a key object, for `crypto.diffieHellman`. */
  agreementKeyObject: KeyObject;
}

/** The user's own identity: both private keys and the public bundle. */
export interface Identity extends MemberKeys {
  /** The Ed25519 private key. Never leaves the process except sealed in the key file. */
  signingPrivateKey: KeyObject;
  /** The X25519 private key. Never leaves the process except sealed in the key file. */
  agreementPrivateKey: KeyObject;
}

/** A key bundle as JSON fields: base64 of the raw keys and the signature. */
export interface KeyBundleWire {
  /** Base64 of the raw Ed25519 public key. */
  signingKey: string;
  /** Base64 of the raw X25519 public key. */
  agreementKey: string;
  /** Base64 of the bundle signature. */
  signature: string;
}

/**
 * Field validators for a key bundle, to spread into a stage's frame schema
 * (`frameSchema('keys', { user: …, ...KEY_BUNDLE_FIELDS })`).
 */
export const KEY_BUNDLE_FIELDS = {
  /** Raw Ed25519 public key, base64. */
  signingKey: base64Field({ minBytes: KEY_BYTES_25519, maxBytes: KEY_BYTES_25519 }),
  /** Raw X25519 public key, base64. */
  agreementKey: base64Field({ minBytes: KEY_BYTES_25519, maxBytes: KEY_BYTES_25519 }),
  /** Ed25519 signature, base64. */
  signature: base64Field({ minBytes: SIGNATURE_BYTES, maxBytes: SIGNATURE_BYTES }),
} as const;

/**
 * Makes a new identity from the operating system's CSPRNG. Done once, at
 * registration; the result is sealed into the key file.
 *
 * @param username - the account the keys belong to (it is signed into the bundle)
 */
export function generateIdentity(username: string): Identity {
  const signing = generateKeyPairSync('ed25519').privateKey;
  const agreement = generateKeyPairSync('x25519').privateKey;
  return identityFromKeys(username, signing, agreement);
}

// The fixed DER headers (RFC 8410) around a raw 32-byte key: PKCS#8 for a
// private key, SPKI for a public one. Node has no "raw" key format, so a
// raw key comes out through these. (Not through JWK export, whose "x" and
// "d" are the same bytes: on Node 20 it can deadlock against the garbage
// collector; see rawPublicKey.)
const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
};
const SPKI_PREFIX = {
  ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  x25519: Buffer.from('302a300506032b656e032100', 'hex'),
};

/**
 * Rebuilds an identity from its two raw private keys (as the key file stores
 * them; test vectors use fixed ones). Ed25519 signing is deterministic, so the
 * bundle signature comes out byte for byte the same every time.
 *
 * @param username - the account
 * @param signingSeed - the 32-byte Ed25519 private key
 * @param agreementSeed - the 32-byte X25519 private key
 */
export function identityFromPrivateKeys(
  username: string,
  signingSeed: Uint8Array,
  agreementSeed: Uint8Array,
): Identity {
  return identityFromKeys(
    username,
    privateKeyFromRaw('ed25519', signingSeed),
    privateKeyFromRaw('x25519', agreementSeed),
  );
}

/**
 * The raw private keys of an identity, to seal into the key file.
 *
 * @param identity - the user's identity
 * @returns 64 bytes: the Ed25519 seed, then the X25519 private key
 */
export function privateKeyBytes(identity: Identity): Buffer {
  return Buffer.concat([
    rawPrivateKey(identity.signingPrivateKey),
    rawPrivateKey(identity.agreementPrivateKey),
  ]);
}

/**
 * The bytes a key bundle signature covers.
 *
 * ```text
 * record("socket-chat v8 key bundle", string username, bytes signingKey, bytes agreementKey)
 * ```
 *
 * @param username - whose bundle
 * @param signingKey - raw Ed25519 public key
 * @param agreementKey - raw X25519 public key
 */
export function keyBundleSignedBytes(
  username: string,
  signingKey: Uint8Array,
  agreementKey: Uint8Array,
): Buffer {
  return new CanonicalWriter(E2E_LABELS.keyBundle)
    .string(username)
    .bytes(signingKey)
    .bytes(agreementKey)
    .finish();
}

/**
 * Encodes public keys as JSON fields for a frame.
 *
 * @param keys - a user's public keys (an {@link Identity} is fine)
 */
export function encodeKeyBundle(keys: PublicKeys): KeyBundleWire {
  return {
    signingKey: keys.signingKey.toString('base64'),
    agreementKey: keys.agreementKey.toString('base64'),
    signature: keys.signature.toString('base64'),
  };
}

/**
 * Checks a bundle someone published for `username`, and returns usable keys.
 * It proves only that the keys belong *together*; whether the signing key is
 * really that person's is what trust on first use and safety numbers are for.
 *
 * @param username - whom the server says the bundle belongs to
 * @param wire - the fields; validated here, so a raw decoded object is fine
 * @returns the keys with Node key objects
 * @throws ChatError `BAD_FRAME` if a field is missing or not base64 of the right length,
 *   or the X25519 key is one of the few points that give no secret (all-zero output)
 * @throws ChatError `BAD_SIGNATURE` if the signature does not cover this username and keys
 */
export function verifyKeyBundle(username: string, wire: unknown): MemberKeys {
  const fields = checkFields(KEY_BUNDLE_FIELDS, wire, 'key bundle');
  const signingKey = Buffer.from(fields.signingKey, 'base64');
  const agreementKey = Buffer.from(fields.agreementKey, 'base64');
  const signature = Buffer.from(fields.signature, 'base64');
  const signingKeyObject = publicKeyFromRaw('Ed25519', signingKey);
  const signed = keyBundleSignedBytes(username, signingKey, agreementKey);
  if (!verify(null, signed, signingKeyObject, signature)) {
    throw new ChatError('BAD_SIGNATURE', `the key bundle of ${username} is not signed by its key`);
  }
  const agreementKeyObject = publicKeyFromRaw('X25519', agreementKey);
  checkAgreementKey(agreementKeyObject);
  return { username, signingKey, agreementKey, signature, signingKeyObject, agreementKeyObject };
}

/**
 * Imports a raw public key. Any 32 bytes import; Ed25519 points that are not
 * on the curve then simply fail every verification.
 *
 * @param curve - `'Ed25519'` or `'X25519'`
 * @param raw - 32 bytes
 * @throws ChatError `BAD_FRAME` if `raw` is not 32 bytes
 */
export function publicKeyFromRaw(curve: 'Ed25519' | 'X25519', raw: Uint8Array): KeyObject {
  if (raw.length !== KEY_BYTES_25519) {
    throw new ChatError('BAD_FRAME', `an ${curve} public key is ${KEY_BYTES_25519} bytes`);
  }
  // JWK import is safe (only JWK *export* deadlocks, see rawPublicKey) and
  // about 20 times faster than parsing DER, which matters: every pairwise
  // box a member receives carries a fresh key.
  const x = Buffer.from(raw).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: curve, x }, format: 'jwk' });
}

function identityFromKeys(username: string, signing: KeyObject, agreement: KeyObject): Identity {
  const signingKeyObject = createPublicKey(signing);
  const agreementKeyObject = createPublicKey(agreement);
  const signingKey = rawPublicKey(signingKeyObject);
  const agreementKey = rawPublicKey(agreementKeyObject);
  const signature = sign(null, keyBundleSignedBytes(username, signingKey, agreementKey), signing);
  return {
    username,
    signingKey,
    agreementKey,
    signature,
    signingKeyObject,
    agreementKeyObject,
    signingPrivateKey: signing,
    agreementPrivateKey: agreement,
  };
}

/**
 * Imports a raw 32-byte private key (the key file stores them raw; test
 * vectors fix them).
 *
 * @param type - `'ed25519'` or `'x25519'`
 * @param raw - 32 bytes
 */
export function privateKeyFromRaw(type: 'ed25519' | 'x25519', raw: Uint8Array): KeyObject {
  if (raw.length !== KEY_BYTES_25519) {
    throw new RangeError(`a raw ${type} private key is ${KEY_BYTES_25519} bytes`);
  }
  const der = Buffer.concat([PKCS8_PREFIX[type], raw]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/**
 * The raw 32 bytes of a public key object, as the wire carries them.
 *
 * Read from the SPKI encoding, never from JWK: on Node 20, exporting fresh
 * X25519 or Ed25519 keys as JWK can deadlock (the export holds the key's lock
 * while a garbage collection runs a finaliser that needs it; seen with
 * private keys and with public ones), and a client makes one fresh key per
 * pairwise box. The DER export costs more (tens of microseconds) but never
 * hung in hundreds of thousands of keys. A private key is turned into its
 * public half first.
 *
 * @param key - an Ed25519 or X25519 public (or private) key object
 */
export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return unwrap(publicKey.export({ format: 'der', type: 'spki' }), SPKI_PREFIX, publicKey);
}

// The raw 32-byte private key, from its PKCS#8 encoding.
function rawPrivateKey(key: KeyObject): Buffer {
  return unwrap(key.export({ format: 'der', type: 'pkcs8' }), PKCS8_PREFIX, key);
}

// The key after the fixed header, once the header is exactly the expected
// one: a different algorithm or an unexpected encoding is a bug, not a key.
function unwrap(
  der: Buffer,
  prefixes: Record<'ed25519' | 'x25519', Buffer>,
  key: KeyObject,
): Buffer {
  const type = key.asymmetricKeyType;
  const prefix = type === 'ed25519' || type === 'x25519' ? prefixes[type] : undefined;
  if (
    prefix === undefined ||
    der.length !== prefix.length + KEY_BYTES_25519 ||
    !der.subarray(0, prefix.length).equals(prefix)
  ) {
    throw new Error(`not a raw Ed25519 or X25519 key (${String(type)})`);
  }
  return Buffer.from(der.subarray(prefix.length));
}

// A handful of X25519 public values (small-order points) give the same
// all-zero secret whatever the private key: a "key" that agrees on a value
// everyone knows. OpenSSL refuses to derive with them; find out now, at the
// bundle, rather than at the first box.
const PROBE = generateKeyPairSync('x25519').privateKey;
function checkAgreementKey(key: KeyObject): void {
  try {
    diffieHellman({ privateKey: PROBE, publicKey: key });
  } catch {
    throw new ChatError('BAD_FRAME', 'the X25519 key is a small-order point, not a usable key');
  }
}
