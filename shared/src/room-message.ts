/**
 * The signed room message: one chat line, sealed with a message key from the
 * sender's chain and signed with the sender's identity key.
 *
 * Introduced by stage 8. On the wire a room message is four fields; the server
 * adds `from` (the logged-in sender) and relays it unopened:
 *
 * ```json
 * { "type": "e2e-chat", "from": "alice", "epoch": 1732000000000, "counter": 0,
 *   "box": "<nonce | ciphertext | tag, base64>", "sig": "<64 bytes, base64>" }
 * ```
 *
 * ```text
 * header    = record("socket-chat v8 room message header", string sender, u64 epoch, u32 counter)
 * box       = AES-256-GCM(mk, random nonce, UTF-8 text, AD = header)      (crypto.ts's seal)
 * signature = Ed25519(sender's signing key,
 *               record("socket-chat v8 room message signature",
 *                      string sender, u64 epoch, u32 counter, bytes box))
 * ```
 *
 * **Why sign when GCM already authenticates?** Every member holds the
 * sender's chain key, so any member could seal a message under it: GCM proves
 * "someone in the room", not "alice". Only alice's Ed25519 key proves alice.
 * This is what the original write-up's ip:port prefix could not give:
 * authorship, checkable by every member. (It is not non-repudiation in the
 * legal sense: a signature shows which *key* signed, and the user can claim
 * the key was stolen. It does let other members prove it to each other.)
 *
 * **Order of checks** on receipt: the signature first (cheap, and only the
 * real sender can pass it, so no one else can make us ratchet), then the
 * counter rules, then GCM (see the receiver-chains module).
 *
 * @module
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes';
import { BOX_OVERHEAD, open, seal } from './crypto';
import { E2E_LABELS } from './e2e-labels';
import { ChatError, isChatError } from './errors';
import { SIGNATURE_BYTES, type Identity, type MemberKeys } from './identity-keys';
import { base64Field, integerField } from './protocol';
import type { ReceiverChains } from './receiver-chains';
import { MAX_COUNTER } from './sender-chain';
import { checkFields } from './wire-fields';

/** The longest chat text, in UTF-8 bytes (as in stages 5 and 6). */
export const MAX_ROOM_TEXT_BYTES = 4096;

/** A room message, decoded. */
export interface RoomMessage {
  /** The sender's username (from the server's `from`, checked by the signature). */
  sender: string;
  /** The sender's epoch. */
  epoch: number;
  /** The message's position in the sender's chain. */
  counter: number;
  /** `nonce | ciphertext | tag`. */
  box: Buffer;
  /** Ed25519 signature over sender, epoch, counter and box. */
  signature: Buffer;
}

/** A room message as JSON fields (the frame adds `type`, and the server adds `from`). */
export interface RoomMessageWire {
  /** The epoch, a JSON integer. */
  epoch: number;
  /** The counter, a JSON integer. */
  counter: number;
  /** Base64 of the box. */
  box: string;
  /** Base64 of the signature. */
  sig: string;
}

/** Field validators for a room message, to spread into a stage's frame schema. */
export const ROOM_MESSAGE_FIELDS = {
  /** A u64 epoch, up to JSON's exact-integer limit. */
  epoch: integerField({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  /** A u32 counter. */
  counter: integerField({ min: 0, max: MAX_COUNTER }),
  /** The box, base64. */
  box: base64Field({ minBytes: BOX_OVERHEAD, maxBytes: MAX_ROOM_TEXT_BYTES + BOX_OVERHEAD }),
  /** The signature, base64. */
  sig: base64Field({ minBytes: SIGNATURE_BYTES, maxBytes: SIGNATURE_BYTES }),
} as const;

/** The message key to seal with, and where it sits: what the sender state hands out. */
export interface MessageKey {
  /** The sender's current epoch. */
  epoch: number;
  /** The counter the key belongs to. */
  counter: number;
  /** The 32-byte message key. */
  messageKey: Buffer;
}

/**
 * The associated data of a room message's box.
 *
 * @param sender - the sender's username
 * @param epoch - the epoch
 * @param counter - the counter
 */
export function messageHeader(sender: string, epoch: number, counter: number): Buffer {
  return new CanonicalWriter(E2E_LABELS.messageHeader)
    .string(sender)
    .u64(epoch)
    .u32(counter)
    .finish();
}

// #region signed-bytes
/**
 * The bytes a room message's signature covers: every field but the signature.
 *
 * @param message - sender, epoch, counter and box
 */
export function messageSignedBytes(message: Omit<RoomMessage, 'signature'>): Buffer {
  return new CanonicalWriter(E2E_LABELS.messageSignature)
    .string(message.sender)
    .u64(message.epoch)
    .u32(message.counter)
    .bytes(message.box)
    .finish();
}
// #endregion signed-bytes

/** Options for {@link sealRoomMessage}. Production code passes none. */
export interface SealRoomOptions {
  /** **Test vectors only**: the GCM nonce (see crypto.ts's `SealOptions`). */
  testVectorNonce?: Uint8Array;
}

/**
 * Seals and signs one chat line. The message key is erased afterwards.
 *
 * @param identity - the sender (its username and signing key)
 * @param key - the epoch, counter and message key from the sender state
 * @param text - the line, at most {@link MAX_ROOM_TEXT_BYTES} UTF-8 bytes
 * @param options - leave out (test vectors only)
 * @throws ChatError `BAD_FRAME` if the text is too long
 */
export function sealRoomMessage(
  identity: Identity,
  key: MessageKey,
  text: string,
  options: SealRoomOptions = {},
): RoomMessage {
  const plaintext = Buffer.from(text, 'utf8');
  if (plaintext.length > MAX_ROOM_TEXT_BYTES) {
    throw new ChatError(
      'BAD_FRAME',
      `message is ${plaintext.length} bytes; the limit is ${MAX_ROOM_TEXT_BYTES}`,
    );
  }
  const { epoch, counter } = key;
  const ad = messageHeader(identity.username, epoch, counter);
  const box = seal(key.messageKey, plaintext, ad, { testVectorNonce: options.testVectorNonce });
  key.messageKey.fill(0);
  const unsigned = { sender: identity.username, epoch, counter, box };
  return {
    ...unsigned,
    signature: sign(null, messageSignedBytes(unsigned), identity.signingPrivateKey),
  };
}

// #region verify
/**
 * Checks that `senderKey` signed exactly this message.
 *
 * @param message - the decoded message
 * @param senderKey - the Ed25519 key recorded for `message.sender` (never one the message brings)
 * @throws ChatError `BAD_SIGNATURE` if any field was changed, or another key signed it
 */
export function verifyRoomMessage(message: RoomMessage, senderKey: KeyObject): void {
  const signed = messageSignedBytes(message);
  if (
    message.signature.length !== SIGNATURE_BYTES ||
    !verify(null, signed, senderKey, message.signature)
  ) {
    throw new ChatError(
      'BAD_SIGNATURE',
      `a message said to be from ${message.sender} is not signed by them`,
    );
  }
}
// #endregion verify

/**
 * Verifies and opens a room message: signature, then counter rules, then GCM.
 *
 * @param message - the decoded message
 * @param sender - the verified keys of `message.sender`
 * @param chains - my receiver state; advanced only if the message opens
 * @returns the text (strip control characters before printing it)
 * @throws ChatError `BAD_SIGNATURE`, then `UNKNOWN_EPOCH`, `REPLAYED`, `MESSAGE_TOO_OLD`,
 *   `MESSAGE_TOO_FAR_AHEAD`, then `DECRYPT_FAILED` (signed, but sealed under another key)
 */
export function openRoomMessage(
  message: RoomMessage,
  sender: MemberKeys,
  chains: ReceiverChains,
): string {
  if (sender.username !== message.sender) {
    throw new ChatError(
      'BAD_SIGNATURE',
      `keys of ${sender.username} offered for ${message.sender}`,
    );
  }
  verifyRoomMessage(message, sender.signingKeyObject);
  const { epoch, counter } = message;
  try {
    return chains.withMessageKey(message.sender, epoch, counter, (messageKey) => {
      const plaintext = open(
        messageKey,
        message.box,
        messageHeader(message.sender, epoch, counter),
      );
      try {
        return utf8.decode(plaintext);
      } catch {
        throw new ChatError('DECRYPT_FAILED', 'authentic message, but its text is not UTF-8');
      }
    });
  } catch (err) {
    // Signed, yet it does not open: the sender sent it (see distrust).
    if (isChatError(err, 'DECRYPT_FAILED')) chains.distrust(message.sender, epoch);
    throw err;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Encodes a room message as JSON fields (the sender travels as the frame's `from`).
 *
 * @param message - the message
 */
export function encodeRoomMessage(message: RoomMessage): RoomMessageWire {
  return {
    epoch: message.epoch,
    counter: message.counter,
    box: message.box.toString('base64'),
    sig: message.signature.toString('base64'),
  };
}

/**
 * Decodes a room message's JSON fields, validating each one.
 *
 * @param sender - the frame's `from`, as the server stamped it
 * @param wire - the fields (a raw decoded object is fine)
 * @throws ChatError `BAD_FRAME` if a field is missing, mistyped, out of range or the wrong size
 */
export function decodeRoomMessage(sender: string, wire: unknown): RoomMessage {
  const fields = checkFields(ROOM_MESSAGE_FIELDS, wire, 'room message');
  return {
    sender,
    epoch: fields.epoch,
    counter: fields.counter,
    box: Buffer.from(fields.box, 'base64'),
    signature: Buffer.from(fields.sig, 'base64'),
  };
}
