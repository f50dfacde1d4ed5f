/**
 * My sender state: my current epoch and chain, who holds my chain key, and
 * what must be handed out before my next message. Pure: no sockets, no clock.
 *
 * Introduced by stage 8. The client wiring drives it with three kinds of
 * event, and it answers with what to do:
 *
 * ```text
 * memberJoined(name)   the server says name is in the room
 * memberLeft(name)     the server says name left
 * prepareToSend()      before each message: → who needs my sender key (or null)
 *   markDistributed()    after sealing a pairwise box to each of them
 *   nextMessageKey()     → epoch, counter, message key for this message
 * ```
 *
 * **Lazy rotation.** A member who leaves still holds my chain key, and with it
 * every later key of my epoch. So after a leave my next message must start a
 * new epoch: a fresh random chain key, handed to each *remaining* member in a
 * pairwise box. Rotating only when I next speak (not at the leave itself)
 * costs O(members) per member who speaks, instead of every member rotating at
 * once, O(members²) per leave; a member who never speaks never rotates. A
 * member who leaves without ever having held my current key changes nothing.
 *
 * **Newcomers** get my chain key as it is *now*, at my current counter: they
 * read what I say from here on and cannot step the chain back to anything I
 * said before they joined.
 *
 * **Invariant**: `nextMessageKey()` refuses (a programming error, not a
 * ChatError) while a rotation is due or a current member lacks my key, so the
 * wiring cannot send a message some member cannot read, or one a leaver can.
 *
 * @module
 */
import { newChainKey, SenderChain, type SenderKey } from './sender-chain';
import type { MessageKey } from './room-message';

/** What to hand out before the next message: one sender key, for each recipient. */
export interface Distribution {
  /** Members who do not hold my current chain key, in name order. */
  recipients: string[];
  /** My epoch, current counter and chain key: seal it in a pairwise box to each. */
  senderKey: SenderKey;
}

/** Options for {@link SenderState}. */
export interface SenderStateOptions {
  /**
   * My first epoch. Receivers accept only growing epochs from a sender, and
   * a restarted client remembers nothing; so the wiring passes the clock
   * (`Date.now()`), which is larger than any epoch an earlier run used.
   */
  firstEpoch: number;
  /** The room's other members when I join. */
  members?: Iterable<string>;
  /**
   * Makes each epoch's chain key; default random. Tests pass fixed ones. Return
   * a new buffer on every call: it is erased once the chain has copied it.
   */
  makeChainKey?: () => Buffer;
}

/** The state machine; one per client session. */
export class SenderState {
  private readonly members = new Set<string>();
  private readonly holders = new Set<string>();
  private readonly makeChainKey: () => Buffer;
  private chain: SenderChain | null = null;
  private rotationDue = true; // no epoch yet: the first message starts one
  private nextEpoch: number;

  /**
   * @param options - the first epoch, the current members, the key source
   */
  constructor(options: SenderStateOptions) {
    this.nextEpoch = options.firstEpoch;
    this.makeChainKey = options.makeChainKey ?? newChainKey;
    for (const name of options.members ?? []) this.members.add(name);
  }

  /** My current epoch, or `null` before my first message. */
  get epoch(): number | null {
    return this.chain?.epoch ?? null;
  }

  /** The counter my next message will carry, or `null` before my first message. */
  get counter(): number | null {
    return this.chain?.counter ?? null;
  }

  /** Members holding my current chain key, in name order. */
  get keyHolders(): string[] {
    return [...this.holders].sort();
  }

  /** Whether my next message will start a new epoch. */
  get willRotate(): boolean {
    return this.rotationDue || this.chain === null || this.chain.exhausted;
  }

  /**
   * A member is in the room (joined, or was there when I joined).
   *
   * @param name - the member's username
   */
  memberJoined(name: string): void {
    this.members.add(name);
  }

  /**
   * A member left. If it held my current chain key, my next message starts a
   * new epoch.
   *
   * @param name - the member's username
   */
  memberLeft(name: string): void {
    this.members.delete(name);
    if (this.holders.delete(name)) this.rotationDue = true;
  }

  /**
   * Call before every message. Starts a new epoch if one is due, then says
   * who must receive my current sender key first.
   *
   * @returns the sender key and its recipients, or `null` if every member has it
   */
  prepareToSend(): Distribution | null {
    if (this.willRotate) this.rotate();
    const recipients = [...this.members].filter((name) => !this.holders.has(name)).sort();
    if (recipients.length === 0) return null;
    return { recipients, senderKey: this.chain!.senderKey() };
  }

  /**
   * Records that these members were sent my current sender key.
   *
   * @param names - recipients whose pairwise boxes were sent
   */
  markDistributed(names: Iterable<string>): void {
    for (const name of names) if (this.members.has(name)) this.holders.add(name);
  }

  /**
   * The key for my next message; steps my chain.
   *
   * @returns epoch, counter and message key (seal with it once, then it is erased)
   * @throws Error if {@link prepareToSend} has work that was not done
   */
  nextMessageKey(): MessageKey {
    if (this.willRotate) throw new Error('a new epoch is due: call prepareToSend() first');
    const missing = [...this.members].filter((name) => !this.holders.has(name));
    if (missing.length > 0) {
      throw new Error(`my sender key was not distributed to: ${missing.sort().join(', ')}`);
    }
    const { counter, messageKey } = this.chain!.next();
    return { epoch: this.chain!.epoch, counter, messageKey };
  }

  private rotate(): void {
    // Told to the members with the new key: what the old epoch's last message was.
    const previousEnd = this.chain?.counter ?? 0;
    this.chain?.wipe();
    const chainKey = this.makeChainKey();
    this.chain = new SenderChain({ epoch: this.nextEpoch, counter: 0, chainKey, previousEnd });
    chainKey.fill(0);
    this.nextEpoch += 1;
    this.holders.clear();
    this.rotationDue = false;
  }
}
