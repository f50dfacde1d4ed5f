/**
 * Every domain-separation label of the end-to-end layer, in one place.
 *
 * Introduced by stage 8. The same identity key signs three kinds of thing (a
 * key bundle, a pairwise box, a room message) and HKDF derives keys for two
 * purposes. If two purposes fed the same bytes to the same key, a signature or
 * a key made for one could be replayed as the other: a signed room message
 * presented as a signed key bundle, say. So every signed or derived input
 * starts with a label naming its purpose and the protocol version, and no two
 * labels are equal (a test checks it). A future `v9` format gets new labels,
 * so nothing signed under v8 can be mistaken for v9 either.
 *
 * The chain ratchet is the one derivation without a label here: its inputs are
 * fixed single bytes (`0x01` for a message key, `0x02` for the next chain key)
 * under a chain key used for nothing else, exactly as Signal's sender keys do.
 *
 * @module
 */

/**
 * The labels, by purpose. Each is written as the first field of a canonical
 * record (see the canonical-bytes module), length-prefixed, so a label can
 * never run into the bytes after it.
 */
export const E2E_LABELS = {
  /** Signed by a user's Ed25519 key: "this X25519 key is mine, for this username". */
  keyBundle: 'socket-chat v8 key bundle',
  /** HKDF info for a pairwise box's AES key and nonce. */
  pairwiseKey: 'socket-chat v8 pairwise box key',
  /** Signed by the sender of a pairwise box: who, to whom, to which key, what. */
  pairwiseSignature: 'socket-chat v8 pairwise box signature',
  /** A room message's AES-GCM associated data: sender, epoch, counter. */
  messageHeader: 'socket-chat v8 room message header',
  /** Signed by the sender of a room message: header and box. */
  messageSignature: 'socket-chat v8 room message signature',
  /** Hashed into one half of a safety number. */
  fingerprint: 'socket-chat v8 fingerprint',
  /** The identity key file's AES-GCM associated data: format, user, scrypt parameters. */
  identityFile: 'socket-chat v8 identity file',
} as const;
