/**
 * One member's end-to-end session: the pieces of the stage 8 core put
 * together behind five calls, so a client's wiring only moves frames.
 *
 * Introduced by stage 8, for the stage 8 client (and stage 9's, unchanged).
 *
 * ```text
 * server event                          call                         then send
 * ------------------------------------  ---------------------------  ---------------------------
 * a member is in the room, with keys    addMember(name, bundle)      (show a warning if changed)
 * a member left                         removeMember(name)           -
 * I type a line                         seal(text)                   each key box, then the message
 * a key box from X arrives              receiveKeyBox(X, fields)     -
 * a room message from X arrives         open(X, fields) → text       -
 * ```
 *
 * Policy decisions made here, so every client makes them the same way:
 *
 * - A member whose identity key changed since first use is **held**: no
 *   sender key is sealed to it and its messages are refused with
 *   `MEMBER_KEY_CHANGED`, until the user accepts the new key
 *   ({@link E2eSession.acceptKey}, e.g. after `/verify`).
 * - A key box or message from someone with no trusted key is
 *   `BAD_SIGNATURE`: it cannot be verified, so it is not believed.
 * - Every refusal is a ChatError with a stable code; the wiring shows it as
 *   a warning and carries on (never prints the refused text).
 *
 * @module
 */
import { ChatError } from './errors';
import { verifyKeyBundle, type Identity, type MemberKeys } from './identity-keys';
import type { KeyChangeWarning, KnownMembers, TrustDecision } from './known-members';
import type { OpenedCounters } from './opened-counters';
import {
  decodePairwiseBox,
  encodePairwiseBox,
  openPairwise,
  sealPairwise,
  type PairwiseBoxWire,
} from './pairwise-box';
import { ReceiverChains, type MessageOrder, type MissingMessages } from './receiver-chains';
import {
  decodeRoomMessage,
  encodeRoomMessage,
  openRoomMessage,
  sealRoomMessage,
  type RoomMessageWire,
} from './room-message';
import { fingerprint, safetyNumber } from './safety-number';
import { decodeSenderKey, encodeSenderKey } from './sender-chain';
import { SenderState } from './sender-state';

/** Options for {@link E2eSession}. */
export interface E2eSessionOptions {
  /** My unlocked identity. */
  identity: Identity;
  /** My known-members store (trust on first use). */
  known: KnownMembers;
  /** My first epoch: pass `Date.now()` (see the sender-state module). */
  firstEpoch: number;
  /**
   * Where my earlier sessions stopped reading each sender (a file: see
   * opened-counters.ts), so that old messages cannot be replayed to me after
   * a reconnect. Default: in memory, this session only.
   */
  opened?: OpenedCounters;
  /** Chain key source for tests and vectors; default random. */
  makeChainKey?: () => Buffer;
}

/** One pairwise box to send, and to whom (the frame's `to`). */
export interface OutgoingKeyBox {
  /** The recipient's username. */
  to: string;
  /** The box's fields. */
  box: PairwiseBoxWire;
}

/** What to send for one chat line: key boxes first, then the message. */
export interface Outgoing {
  /** A pairwise box with my sender key for each member that lacks it. */
  keyBoxes: OutgoingKeyBox[];
  /** The signed room message. */
  message: RoomMessageWire;
}

/** My side of the room, end to end. */
export class E2eSession {
  private readonly identity: Identity;
  private readonly known: KnownMembers;
  private readonly members = new Map<string, MemberKeys>();
  private readonly held = new Map<string, { keys: MemberKeys; warning: KeyChangeWarning }>();
  private readonly sender: SenderState;
  private readonly chains: ReceiverChains;

  /**
   * @param options - my identity, my known-members store, my first epoch
   */
  constructor(options: E2eSessionOptions) {
    this.identity = options.identity;
    this.known = options.known;
    // My own key is the one in my identity file: record it, so that the
    // server publishing another one for me shows up as a change.
    const mine = this.known.signingKeyOf(this.identity.username);
    if (mine === undefined || !mine.equals(this.identity.signingKey)) {
      this.known.accept(this.identity.username, this.identity.signingKey);
    }
    this.chains = new ReceiverChains(options.opened);
    this.sender = new SenderState({
      firstEpoch: options.firstEpoch,
      makeChainKey: options.makeChainKey,
    });
  }

  /** Members I share the room with (trusted keys), in name order. */
  get memberNames(): string[] {
    return [...this.members.keys()].sort();
  }

  /**
   * The server says `username` is in the room and publishes these keys.
   *
   * @param username - the member
   * @param bundle - its key bundle fields (validated and verified here)
   * @returns the trust decision; on `changed` the member is held (see above).
   *   For my own name it only checks that the server publishes my real key.
   * @throws ChatError `BAD_FRAME` or `BAD_SIGNATURE` for a malformed or unsigned bundle
   */
  addMember(username: string, bundle: unknown): TrustDecision {
    const keys = verifyKeyBundle(username, bundle);
    const decision = this.known.observe(username, keys.signingKey);
    if (username === this.identity.username) return decision;
    if (decision.status === 'changed') {
      this.removeMember(username);
      this.held.set(username, { keys, warning: decision.warning });
    } else {
      // The trusted key is back: a changed key held earlier is dropped, or
      // `/verify` (which shows this key) and `/trust` (which would accept
      // the held one) would be about two different keys.
      this.held.delete(username);
      this.members.set(username, keys);
      this.sender.memberJoined(username);
    }
    return decision;
  }

  /**
   * The user trusts the changed key of a held member: record it, let it in.
   *
   * @param username - a member {@link addMember} held
   * @returns whether there was such a member
   */
  acceptKey(username: string): boolean {
    const entry = this.held.get(username);
    if (entry === undefined) return false;
    this.held.delete(username);
    this.known.accept(username, entry.keys.signingKey);
    this.members.set(username, entry.keys);
    this.sender.memberJoined(username);
    return true;
  }

  /**
   * The server says `username` left: forget its keys; my next message starts
   * a new epoch if it held my chain key.
   *
   * @param username - the member who left
   */
  removeMember(username: string): void {
    this.members.delete(username);
    this.held.delete(username);
    this.sender.memberLeft(username);
    this.chains.forgetSender(username);
  }

  /**
   * Seals one chat line: rotates if due, hands my sender key to whoever
   * lacks it, then seals and signs the message.
   *
   * @param text - the line
   * @returns the key boxes and the message, as frame fields
   * @throws ChatError `BAD_FRAME` if the text is too long
   */
  seal(text: string): Outgoing {
    const keyBoxes: OutgoingKeyBox[] = [];
    const plan = this.sender.prepareToSend();
    if (plan !== null) {
      const payload = encodeSenderKey(plan.senderKey);
      for (const to of plan.recipients) {
        const box = sealPairwise(this.identity, this.members.get(to)!, payload);
        keyBoxes.push({ to, box: encodePairwiseBox(box) });
      }
      payload.fill(0);
      plan.senderKey.chainKey.fill(0);
      this.sender.markDistributed(plan.recipients);
    }
    const message = sealRoomMessage(this.identity, this.sender.nextMessageKey(), text);
    return { keyBoxes, message: encodeRoomMessage(message) };
  }

  /**
   * A pairwise box from `from`: verify, open, and keep its sender key.
   *
   * @param from - the sender, as the server stamped it
   * @param fields - the box's fields
   * @returns how many of `from`'s messages never came, as the key shows (it
   *   says where the previous epoch ended; see `ReceiverChains.addSenderKey`)
   * @throws ChatError `BAD_FRAME`, `BAD_SIGNATURE`, `DECRYPT_FAILED`, `REPLAYED`,
   *   `MEMBER_KEY_CHANGED` (held member)
   */
  receiveKeyBox(from: string, fields: unknown): MissingMessages {
    const sender = this.trusted(from);
    const plaintext = openPairwise(this.identity, sender, decodePairwiseBox(fields));
    try {
      return this.chains.addSenderKey(from, decodeSenderKey(plaintext));
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * A room message from `from`: verify, check the counter, open.
   *
   * @param from - the sender, as the server stamped it
   * @param fields - the message's fields
   * @returns the text (sanitise before printing)
   * @throws ChatError `BAD_FRAME`, `BAD_SIGNATURE`, `UNKNOWN_EPOCH`, `REPLAYED`,
   *   `MESSAGE_TOO_OLD`, `MESSAGE_TOO_FAR_AHEAD`, `DECRYPT_FAILED`, `MEMBER_KEY_CHANGED`
   */
  open(from: string, fields: unknown): string {
    const sender = this.trusted(from);
    return openRoomMessage(decodeRoomMessage(from, fields), sender, this.chains);
  }

  /**
   * Where the last message {@link open} returned stood in its sender's
   * order: how many it jumped over, or whether it came late.
   */
  get lastOrder(): MessageOrder {
    return this.chains.lastOpened;
  }

  /** My fingerprint (30 digits), for `/fingerprint`. */
  fingerprint(): string {
    return fingerprint(this.identity);
  }

  /**
   * The safety number with a member, for `/verify NAME`; a held member's is
   * computed with its new key, the one to compare before accepting it.
   *
   * @param username - the member
   * @returns 60 digits, or `null` if no key is known for `username`
   */
  safetyNumber(username: string): string | null {
    const keys = this.members.get(username) ?? this.held.get(username)?.keys;
    return keys === undefined ? null : safetyNumber(this.identity, keys);
  }

  private trusted(username: string): MemberKeys {
    const keys = this.members.get(username);
    if (keys !== undefined) return keys;
    const held = this.held.get(username);
    if (held !== undefined) {
      throw new ChatError('MEMBER_KEY_CHANGED', `${username}'s key changed; held until accepted`);
    }
    throw new ChatError('BAD_SIGNATURE', `no trusted key for ${username}: cannot verify`);
  }
}
