/**
 * The receiving end of sender keys: for every (sender, epoch), where the chain
 * is, and a bounded window of keys for messages that have not arrived yet.
 *
 * Introduced by stage 8. A receiver holds, per sender and epoch, the chain key
 * at the next expected counter. Messages normally arrive in order (one TCP
 * connection, one server), but a server that delays one message, or a future
 * multi-node relay (stage 9), can reorder them; so when counter 7 arrives while
 * 5 is expected, the receiver steps the chain twice, keeps the keys for 5 and 6
 * ("skipped keys"), and opens 7. Every decision is a rule with a stable code:
 *
 * | arriving counter                  | answer                                   |
 * | --------------------------------- | ---------------------------------------- |
 * | a (sender, epoch) never given     | `UNKNOWN_EPOCH`                          |
 * | the next one, or ahead by ≤ 1,000 | opened; the keys skipped over are kept   |
 * | ahead by more than 1,000          | `MESSAGE_TOO_FAR_AHEAD`                  |
 * | ahead, after a signed one failed  | `MESSAGE_TOO_FAR_AHEAD` ({@link ReceiverChains.distrust}) |
 * | a skipped one, still kept         | opened, and its key erased: once only    |
 * | one already opened                | `REPLAYED`                               |
 * | below the kept window             | `MESSAGE_TOO_OLD` (also: sent before we got the key) |
 *
 * **The window**: at most {@link MAX_SKIPPED_KEYS} (1,000) skipped keys per
 * sender and epoch, the oldest dropped first; one message may make the chain
 * step at most {@link MAX_FORWARD_JUMP} (1,000) times. Both bound what a peer
 * can make us store and compute (32 bytes and two HMACs per step); a message
 * late by more than 1,000 is lost, which a chat can afford.
 *
 * **Gaps are told, not hidden.** After each message it opens, the receiver
 * says where it stood ({@link ReceiverChains.lastOpened}): how many messages
 * it jumped over (not seen: dropped by the server, or delayed), or whether it
 * was one of those, late. The client shows both: a server can drop or
 * reorder messages, but not without the members seeing it. The last
 * messages of an epoch have no later message to show the gap; the sender's
 * next key tells where that epoch ended ({@link SenderKey.previousEnd}), and
 * {@link ReceiverChains.addSenderKey} returns how many of them never came,
 * or, when a whole epoch of that sender never reached us in this session, a
 * lower bound.
 *
 * **Nothing changes until a message opens.** The keys for a jump are derived
 * into scratch space and kept only if the message authenticates; a forged
 * counter cannot push the chain forward or evict good keys. (The caller
 * checks the signature even before that.)
 *
 * **Epochs only grow.** A sender key for an epoch not newer than the newest
 * one seen from that sender is `REPLAYED`, even after the sender left and was
 * forgotten: a server replaying an old key box must not be able to replay the
 * messages of that epoch too. The last {@link EPOCHS_KEPT} epochs of each
 * sender stay open, so messages sent just before a rotation still open.
 *
 * **Across sessions, too.** Given an {@link OpenedCounters} file, the chains
 * start where the last session stopped reading: a sender key for an older
 * epoch, or for the same epoch at a counter below the next one expected, is
 * `REPLAYED` (a sender hands out its key as it is now, never as it was), and
 * every key and message that moves the position forward is written down.
 *
 * @module
 */
import { ChatError } from './errors';
import { OpenedCounters } from './opened-counters';
import { ratchetStep, type SenderKey } from './sender-chain';

/** Skipped message keys kept per (sender, epoch); the oldest is dropped first. */
export const MAX_SKIPPED_KEYS = 1000;
/** The most chain steps one message may cost: how far ahead its counter may jump. */
export const MAX_FORWARD_JUMP = 1000;
/** Epochs kept per sender: the current one and the one before it. */
export const EPOCHS_KEPT = 2;

/** A sender's messages a new key of theirs shows were never read (see {@link ReceiverChains.addSenderKey}). */
export interface MissingMessages {
  /** How many: exactly, or at least this many when `atLeast`. */
  count: number;
  /**
   * A whole epoch between the last one held and this key never came (its key
   * box was withheld): its own messages are at least `count`, and how many of
   * the epoch before it were lost is unknown.
   */
  atLeast: boolean;
}

/** Where an opened message stood in its sender's order (see {@link ReceiverChains.lastOpened}). */
export interface MessageOrder {
  /** How many of the sender's messages it jumped over: not seen (yet). */
  skipped: number;
  /** Whether it is one of those, arriving after messages sent later. */
  late: boolean;
}

interface Chain {
  chainKey: Buffer;
  /** The next counter the chain key is at. */
  next: number;
  /** Counters below this are no longer openable (before the key, or evicted). */
  floor: number;
  /** counter → message key, oldest first (a Map keeps insertion order). */
  skipped: Map<number, Buffer>;
  /** A message its sender signed did not open: no jump ahead is followed any more. */
  distrusted: boolean;
  /** Counters below this were reported missing when the next epoch's key came. */
  reported: number;
}

interface Sender {
  newestEpoch: number;
  /** The next counter expected in the newest epoch (kept when its keys are forgotten). */
  newestNext: number;
  chains: Map<number, Chain>;
}

/**
 * Every sender key this member holds. One instance per client; feed it the
 * sender keys from verified pairwise boxes and ask it for message keys.
 */
export class ReceiverChains {
  /**
   * Where the last message opened stood in its sender's order: how many it
   * jumped over (sent, not seen yet), or whether it is one of those, late.
   */
  lastOpened: MessageOrder = { skipped: 0, late: false };
  private readonly senders = new Map<string, Sender>();

  /**
   * @param opened - where earlier sessions stopped reading each sender;
   *   default: nothing earlier (a store in memory)
   */
  constructor(private readonly opened: OpenedCounters = OpenedCounters.inMemory()) {}

  /**
   * Accepts a sender key from a verified, opened pairwise box.
   *
   * @param sender - whose key it is (the box's signer)
   * @param key - epoch, counter and chain key (copied)
   * @returns how many of `sender`'s messages never came, as this key's
   *   `previousEnd` shows: of its previous epoch, sent after the last one read
   *   before the epoch ended; or at least the previous epoch's own, when that
   *   epoch never reached us. Counted only within this session (a member
   *   offline for a while missed messages on purpose); `count` 0 if none.
   * @throws ChatError `REPLAYED` if the epoch is not newer than every epoch seen
   *   from `sender` in this session, or is behind where an earlier session stopped
   */
  addSenderKey(sender: string, key: SenderKey): MissingMessages {
    const known = this.senders.get(sender);
    if (known !== undefined && key.epoch <= known.newestEpoch) {
      throw new ChatError(
        'REPLAYED',
        `a sender key from ${sender} for epoch ${key.epoch}, not newer than epoch ${known.newestEpoch}`,
      );
    }
    const read = this.opened.positionOf(sender);
    if (
      read !== undefined &&
      (key.epoch < read.epoch || (key.epoch === read.epoch && key.counter < read.next))
    ) {
      throw new ChatError(
        'REPLAYED',
        `an old sender key from ${sender} (epoch ${key.epoch}, message ${key.counter}): ` +
          `an earlier session read up to epoch ${read.epoch}, message ${read.next}`,
      );
    }
    const missing = known === undefined ? NONE_MISSING : missingBefore(known, key);
    const entry = known ?? {
      newestEpoch: key.epoch,
      newestNext: key.counter,
      chains: new Map<number, Chain>(),
    };
    entry.newestEpoch = key.epoch;
    entry.newestNext = key.counter;
    const chainKey = Buffer.from(key.chainKey);
    entry.chains.set(key.epoch, {
      chainKey,
      next: key.counter,
      floor: key.counter,
      skipped: new Map(),
      distrusted: false,
      reported: 0,
    });
    while (entry.chains.size > EPOCHS_KEPT) {
      const oldest = Math.min(...entry.chains.keys());
      wipe(entry.chains.get(oldest)!);
      entry.chains.delete(oldest);
    }
    this.senders.set(sender, entry);
    this.opened.advance(sender, { epoch: key.epoch, next: key.counter });
    return missing;
  }

  /**
   * Erases every key of `sender` (it left the room), but remembers its newest
   * epoch, so old key boxes from it stay refused.
   *
   * @param sender - the member who left
   */
  forgetSender(sender: string): void {
    const entry = this.senders.get(sender);
    if (entry === undefined) return;
    for (const chain of entry.chains.values()) wipe(chain);
    entry.chains.clear();
  }

  /**
   * Whether a key for (sender, epoch) is held.
   *
   * @param sender - the member
   * @param epoch - the epoch
   */
  has(sender: string, epoch: number): boolean {
    return this.senders.get(sender)?.chains.has(epoch) ?? false;
  }

  /**
   * A message `sender` signed would not open. Only the holder of the
   * signing key could have sent it, so the sender itself is misbehaving, and
   * each such message may have made us step the chain up to
   * {@link MAX_FORWARD_JUMP} times for nothing. From now on, until its next
   * sender key, its messages open only in order or from kept keys: a jump
   * ahead is refused before any step is taken.
   *
   * @param sender - the verified sender
   * @param epoch - the epoch of the message that failed
   */
  distrust(sender: string, epoch: number): void {
    const chain = this.senders.get(sender)?.chains.get(epoch);
    if (chain !== undefined) chain.distrusted = true;
  }

  /**
   * Derives the key of message `counter` and passes it to `open`; keeps the
   * new state only if `open` returns. The key is erased afterwards: `open`
   * must not keep it.
   *
   * @param sender - the message's verified sender
   * @param epoch - its epoch
   * @param counter - its counter
   * @param open - decrypts with the key; throws if the message does not authenticate
   * @returns what `open` returned
   * @throws ChatError `UNKNOWN_EPOCH`, `REPLAYED`, `MESSAGE_TOO_OLD`,
   *   `MESSAGE_TOO_FAR_AHEAD` (see the table above), or whatever `open` throws
   */
  withMessageKey<T>(
    sender: string,
    epoch: number,
    counter: number,
    open: (messageKey: Buffer) => T,
  ): T {
    const chain = this.senders.get(sender)?.chains.get(epoch);
    if (chain === undefined) {
      throw new ChatError('UNKNOWN_EPOCH', `no sender key from ${sender} for epoch ${epoch}`);
    }
    if (counter < chain.next) {
      const result = openSkipped(chain, sender, counter, open);
      this.lastOpened = { skipped: 0, late: true };
      return result;
    }
    if (chain.distrusted && counter > chain.next) {
      throw new ChatError(
        'MESSAGE_TOO_FAR_AHEAD',
        `a signed message from ${sender} did not open; no jump ahead is followed in epoch ${epoch}`,
      );
    }
    if (counter - chain.next > MAX_FORWARD_JUMP) {
      throw new ChatError(
        'MESSAGE_TOO_FAR_AHEAD',
        `message ${counter} from ${sender} is more than ${MAX_FORWARD_JUMP} ahead of ${chain.next}`,
      );
    }
    // Step into scratch space: nothing is committed unless `open` succeeds.
    const scratch: [number, Buffer][] = [];
    let chainKey = chain.chainKey;
    for (let c = chain.next; c <= counter; c++) {
      const step = ratchetStep(chainKey);
      if (chainKey !== chain.chainKey) chainKey.fill(0);
      chainKey = step.nextChainKey;
      scratch.push([c, step.messageKey]);
    }
    const [, messageKey] = scratch.pop()!;
    let result: T;
    try {
      result = open(messageKey);
    } catch (err) {
      for (const [, key] of scratch) key.fill(0);
      chainKey.fill(0);
      throw err;
    } finally {
      messageKey.fill(0);
    }
    // Counters the next epoch's key already reported missing are late, not new gaps.
    const reported = Math.max(chain.next, Math.min(chain.reported, counter));
    this.lastOpened = { skipped: counter - reported, late: counter < chain.reported };
    chain.chainKey.fill(0);
    chain.chainKey = chainKey;
    chain.next = counter + 1;
    this.opened.advance(sender, { epoch, next: chain.next }); // only grows: an older epoch is ignored
    const entry = this.senders.get(sender)!;
    if (epoch === entry.newestEpoch) entry.newestNext = chain.next;
    for (const [c, key] of scratch) chain.skipped.set(c, key);
    for (const [oldest, key] of chain.skipped) {
      if (chain.skipped.size <= MAX_SKIPPED_KEYS) break;
      key.fill(0);
      chain.skipped.delete(oldest);
      chain.floor = oldest + 1;
    }
    return result;
  }
}

const NONE_MISSING: MissingMessages = { count: 0, atLeast: false };

// What a sender's new key shows never came (see addSenderKey). Marks the
// counts reported in the epoch's chain, so that late ones are late, not
// missing a second time.
function missingBefore(known: Sender, key: SenderKey): MissingMessages {
  const end = key.previousEnd ?? 0;
  if (end === 0) return NONE_MISSING; // a first epoch (or the sender started again)
  if (key.epoch - 1 > known.newestEpoch) return { count: end, atLeast: true };
  // The epoch just before: read up to newestNext (kept even if its keys were
  // forgotten on a `left`, which the server can say falsely).
  const chain = known.chains.get(known.newestEpoch);
  const from = Math.max(known.newestNext, chain?.reported ?? 0);
  if (chain !== undefined) chain.reported = Math.max(chain.reported, end);
  return { count: Math.max(0, end - from), atLeast: false };
}

function openSkipped<T>(
  chain: Chain,
  sender: string,
  counter: number,
  open: (messageKey: Buffer) => T,
): T {
  const key = chain.skipped.get(counter);
  if (key === undefined) {
    if (counter < chain.floor) {
      throw new ChatError(
        'MESSAGE_TOO_OLD',
        `message ${counter} from ${sender} is below the kept window (from ${chain.floor})`,
      );
    }
    throw new ChatError('REPLAYED', `message ${counter} from ${sender} was already opened`);
  }
  const result = open(key); // if it throws, the key stays for the genuine message
  key.fill(0);
  chain.skipped.delete(counter);
  return result;
}

function wipe(chain: Chain): void {
  chain.chainKey.fill(0);
  for (const key of chain.skipped.values()) key.fill(0);
  chain.skipped.clear();
}
