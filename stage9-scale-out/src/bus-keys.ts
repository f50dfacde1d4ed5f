/**
 * The key the nodes sign their envelopes with, so that Redis carries the
 * room without being able to speak in it.
 *
 * Anything that can `PUBLISH` to Redis can put bytes on the bus. With
 * envelopes checked for shape only, that was enough to speak in the room as
 * any user, and to mute a live node: one envelope with its origin id and a
 * huge sequence number, and every node dropped the real ones as repeats. So
 * each envelope now carries an HMAC-SHA256 of its header and frame, under a
 * key every node has and Redis does not, and a node delivers only envelopes
 * whose MAC checks.
 *
 * **Where the key comes from.** The nodes of a cluster already share one
 * secret: the ticket key file (a ticket made on one node is good on all).
 * The bus key is derived from it with HKDF under its own label, as the TLS
 * session ticket keys are (`login-ticket.ts`): no new file to copy to every
 * node, and the two uses never share key material. Every key in the file
 * checks envelopes, and the first signs them, so a rotation (a new key added
 * first, the old one kept) can be rolled out one node at a time: a node not
 * yet restarted cannot check the new key's envelopes until it is.
 *
 * Presence events are signed with the same key (`presence-event.ts`); an
 * event's first field, `chat-presence/2`, keeps it from ever passing for an
 * envelope, whose first field is `chat-bus/2`. What a MAC alone cannot tell
 * is a replay: the relay drops any envelope not newer than the last from its
 * origin, but a node that never heard that origin (it started later)
 * remembers none. For that the envelope carries its send time, under the
 * MAC, and a node refuses one over a minute old, or sent before it joined
 * the bus (`bus-envelope.ts`).
 *
 * @module
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TicketKeys } from '../../shared/src/login-ticket';

// HKDF's label: this key is for nothing else.
const KEY_LABEL = 'socket-chat v9 bus envelopes';
// The MAC's label: no other HMAC under this key could pass for an envelope's.
const MAC_LABEL = 'socket-chat v9 bus envelope\n';

/** Characters of a MAC in a header: 32 bytes in unpadded base64url. */
export const MAC_CHARS = 43;

/** The keys that sign and check one cluster's envelopes. */
export class BusKeys {
  /**
   * @param keys - 32-byte keys, the signing key first; every one checks
   */
  private constructor(private readonly keys: readonly Buffer[]) {}

  /**
   * The cluster's keys, derived from its ticket key file (see the module comment).
   *
   * @param ticketKeys - the ticket keys every node of the cluster loads
   */
  static fromTicketKeys(ticketKeys: TicketKeys): BusKeys {
    return new BusKeys(
      ticketKeys.keys.map(({ key }) => Buffer.from(hkdfSync('sha256', key, '', KEY_LABEL, 32))),
    );
  }

  /** A random key: for nodes in one process (the in-process cluster) and tests. */
  static random(): BusKeys {
    return new BusKeys([randomBytes(32)]);
  }

  /**
   * The MAC of an envelope, under the signing key.
   *
   * @param header - the header line up to the MAC, without the space before it
   * @param frame - the frame's bytes
   * @returns {@link MAC_CHARS} characters of base64url
   */
  sign(header: string, frame: Uint8Array): string {
    return this.mac(this.keys[0]!, header, frame).toString('base64url');
  }

  /**
   * Whether `mac` is the MAC of this header and frame under one of the keys.
   *
   * @param header - as for {@link sign}
   * @param frame - the frame's bytes
   * @param mac - the MAC field as received
   */
  check(header: string, frame: Uint8Array, mac: string): boolean {
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== 32 || given.toString('base64url') !== mac) return false;
    // Compared in constant time: a byte-by-byte compare would tell an
    // attacker, by its timing, how much of a guessed MAC was right.
    return this.keys.some((key) => timingSafeEqual(this.mac(key, header, frame), given));
  }

  private mac(key: Buffer, header: string, frame: Uint8Array): Buffer {
    return createHmac('sha256', key)
      .update(MAC_LABEL)
      .update(header, 'latin1') // one byte per character, as the header was read
      .update('\n')
      .update(frame)
      .digest();
  }
}
