/**
 * Resumption tickets: after one password login, a client reconnects without
 * its password, and the server spends no bcrypt on it.
 *
 * Introduced by stage 7.
 *
 * **What a ticket is.** A short string the server gives a client after a
 * successful login, and accepts back as proof of that login until it
 * expires. The server keeps nothing per ticket: the ticket carries the user
 * name and the expiry, and an HMAC-SHA256 over them under a key only the
 * server has. Changing one character of the name or the expiry, or making
 * a ticket with another key, breaks the MAC.
 *
 * ```text
 * v1.<key id>.<username, base64url>.<expiry, Unix seconds>.<HMAC, base64url>
 * v1.Lr1c3rXo.YWxpY2U.1767312000.3q0Zz…
 * ```
 *
 * The MAC covers `socket-chat v7 ticket` (so no other HMAC under this key
 * could pass for a ticket) and every field before it, exactly as sent. The
 * key id says which key made it, so the key can be rotated: the ticket key
 * file holds the current key first, and older keys after it, which still
 * verify tickets until those expire and the line is deleted.
 *
 * **Why not just TLS session resumption?** It is on as well (it saves the
 * handshake's signature), but a TLS session says nothing about who logged
 * in: the chat login needs its own proof. A ticket only ever travels inside
 * TLS, so an observer never sees one; a thief of the client's ticket file
 * can log in as that user until the ticket expires (24 hours by default),
 * which is why the file is 0600, like an ssh key.
 *
 * **The ticket key file** (`.data/ticket.key` beside the certificate, mode
 * 0600): one key per line, 32 random bytes in base64, the current key first.
 *
 * @module
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { ChatError } from './errors';
import { readPrivateFile, writePrivateFile } from './private-file';

/** Default lifetime of a ticket: 24 hours. */
export const DEFAULT_TICKET_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** Bytes in a ticket key. */
export const TICKET_KEY_BYTES = 32;

const VERSION = 'v1';
const MAC_LABEL = 'socket-chat v7 ticket';
const TICKET_PATTERN =
  /^v1\.([A-Za-z0-9_-]{8})\.([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** One ticket key and its id (derived from the key, so the two cannot disagree). */
export interface TicketKey {
  /** 8 characters, written into every ticket the key makes. */
  id: string;
  /** 32 secret bytes. */
  key: Buffer;
}

/**
 * The server's ticket keys: the first makes new tickets, all of them
 * verify.
 */
export class TicketKeys {
  /** The keys, current first. */
  readonly keys: readonly TicketKey[];

  /** @param keys - 32-byte keys, current first (at least one) */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new ChatError('BAD_KEY', 'a ticket key ring needs a key');
    this.keys = keys.map((key) => {
      if (key.length !== TICKET_KEY_BYTES) {
        throw new ChatError(
          'BAD_KEY',
          `a ticket key is ${TICKET_KEY_BYTES} bytes, not ${key.length}`,
        );
      }
      return { id: keyId(key), key: Buffer.from(key) };
    });
  }

  /** A ring with one new random key. */
  static generate(): TicketKeys {
    return new TicketKeys([randomBytes(TICKET_KEY_BYTES)]);
  }

  /** The key that makes new tickets. */
  get current(): TicketKey {
    return this.keys[0]!;
  }

  /**
   * The key with this id, if the ring has it.
   *
   * @param id - from a ticket
   */
  find(id: string): TicketKey | undefined {
    return this.keys.find((k) => k.id === id);
  }

  /** The ticket key file's text: one base64 key per line, current first. */
  toFileText(): string {
    return this.keys.map((k) => k.key.toString('base64') + '\n').join('');
  }
}

function keyId(key: Uint8Array): string {
  const digest = createHash('sha256').update('socket-chat v7 ticket key id').update(key).digest();
  return digest.subarray(0, 6).toString('base64url');
}

/**
 * Reads a ticket key file.
 *
 * @param file - the file
 * @param warn - receives a warning if other users can read it
 * @returns the keys, or `undefined` if there is no file
 * @throws ChatError `BAD_KEY` if the file is unreadable or a line is not a 32-byte base64 key
 */
export function loadTicketKeys(file: string, warn?: (m: string) => void): TicketKeys | undefined {
  const read = readPrivateFile(file, { warn, maxBytes: 64 * 1024 });
  if (!read.ok && read.reason === 'missing') return undefined;
  if (!read.ok) throw new ChatError('BAD_KEY', `ticket key file: ${read.detail}`);
  const lines = read.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const keys = lines.map((line, i) => {
    const key = Buffer.from(line, 'base64');
    if (key.toString('base64') !== line || key.length !== TICKET_KEY_BYTES) {
      throw new ChatError(
        'BAD_KEY',
        `${file}: key ${i + 1} is not ${TICKET_KEY_BYTES} bytes of base64`,
      );
    }
    return key;
  });
  if (keys.length === 0) throw new ChatError('BAD_KEY', `${file} holds no ticket key`);
  return new TicketKeys(keys);
}

/**
 * Writes a ticket key file (mode 0600, atomically).
 *
 * @param file - where
 * @param keys - the ring to write
 * @param force - replace an existing file
 * @throws ChatError `KEY_EXISTS` if the file exists and `force` is not set
 */
export function saveTicketKeys(file: string, keys: TicketKeys, force = false): void {
  if (!writePrivateFile(file, keys.toFileText(), { replace: force })) {
    throw new ChatError(
      'KEY_EXISTS',
      `${file} already exists; pass --force to replace it (every ticket then stops working)`,
    );
  }
}

/**
 * The 48 bytes `node:tls` uses to encrypt TLS session tickets, derived from
 * the current ticket key with HKDF under their own label: the two uses never
 * share key material, and one file on disk keeps both across restarts.
 *
 * The certificate's private key is mixed in too (a digest of it is the
 * salt). A resumed TLS session sends no certificate: the client trusts it
 * because only its server could have made the session ticket. With the
 * ticket key alone in those keys, a thief of the ticket key file could do
 * it too, resume a client's session with a certificate of its own, and be
 * sent the client's password. Now that takes the private key as well.
 *
 * @param keys - the server's ticket keys
 * @param privateKeyPem - the certificate's private key (PEM)
 */
export function tlsSessionTicketKeys(keys: TicketKeys, privateKeyPem: string): Buffer {
  const privateKey = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  const salt = createHash('sha256').update(privateKey).digest();
  privateKey.fill(0);
  return Buffer.from(
    hkdfSync('sha256', keys.current.key, salt, 'socket-chat v7 tls session tickets', 48),
  );
}

/**
 * The expiry a ticket states, read without checking its MAC. A client has
 * no key, so it cannot verify anything; it only uses this to keep back a
 * ticket the server would refuse as `expired` (see `TicketStore.load`).
 * Only the server's {@link LoginTickets.verify} believes a ticket.
 *
 * @param ticket - a stored ticket
 * @returns milliseconds since the epoch, or `undefined` if it is not a v1 ticket
 */
export function statedExpiry(ticket: string): number | undefined {
  const match = TICKET_PATTERN.exec(ticket);
  return match === null ? undefined : Number(match[3]) * 1000;
}

/** Why a ticket was refused; the client only ever hears `TICKET_INVALID`. */
export type TicketRefusal = 'malformed' | 'unknown-key' | 'bad-mac' | 'expired' | 'wrong-user';

/**
 * True for the refusals an honest client meets in the normal course of
 * things: its ticket is out of date (`expired`), or was made under a key the
 * server no longer holds (`unknown-key`: replaced to log everyone out, or
 * retired). A server settles such an attempt as "nothing tested", not as a
 * wrong guess: otherwise a classroom behind one address, whose tickets all
 * expire the same morning, spends its address's login budget on them, and
 * the last ones in are refused with the right password. (Neither can ever
 * succeed, and neither costs a look-up or a hash, so nothing is given away;
 * only the log line is sampled, as for every refusal that costs nothing.)
 *
 * @param reason - why {@link LoginTickets.verify} refused the ticket
 */
export function isStaleTicket(reason: TicketRefusal): boolean {
  return reason === 'expired' || reason === 'unknown-key';
}

/** A ticket that passed every check. */
export interface TicketAccepted {
  /** Always `true`. */
  ok: true;
  /** The user the ticket was issued to. */
  username: string;
  /** When it stops being valid. */
  expiresAt: Date;
}

/** A ticket that was refused, and why (for the server's log only). */
export interface TicketRefused {
  /** Always `false`. */
  ok: false;
  /** The first check it failed. */
  reason: TicketRefusal;
}

/** What {@link LoginTickets.verify} found. */
export type TicketCheck = TicketAccepted | TicketRefused;

/** A new ticket, as {@link LoginTickets.issue} makes it. */
export interface IssuedTicket {
  /** The ticket: send it to the client, inside TLS, and never log it. */
  ticket: string;
  /** When it stops being valid. */
  expiresAt: Date;
}

/** Options for {@link LoginTickets}. */
export interface LoginTicketOptions {
  /** The keys. */
  keys: TicketKeys;
  /** How long a new ticket is valid. Default {@link DEFAULT_TICKET_LIFETIME_MS}. */
  lifetimeMs?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now` (tests pass their own). */
  now?: () => number;
}

/** Issues and verifies tickets under one key ring. */
export class LoginTickets {
  private readonly keys: TicketKeys;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  /** @param options - keys, lifetime, clock */
  constructor(options: LoginTicketOptions) {
    this.keys = options.keys;
    this.lifetimeMs = options.lifetimeMs ?? DEFAULT_TICKET_LIFETIME_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Makes a ticket for `username`, valid from now for the lifetime.
   *
   * @param username - a validated username (the login just proved it)
   */
  issue(username: string): IssuedTicket {
    const expires = Math.floor((this.now() + this.lifetimeMs) / 1000);
    const { id, key } = this.keys.current;
    const body = `${VERSION}.${id}.${Buffer.from(username, 'utf8').toString('base64url')}.${expires}`;
    return { ticket: `${body}.${mac(key, body)}`, expiresAt: new Date(expires * 1000) };
  }

  /**
   * Checks a ticket presented for `username`: its shape, its key, its MAC
   * (in constant time), then its expiry and its user. Nothing in a ticket is
   * believed before its MAC verified.
   *
   * @param ticket - as the client sent it (any value: it is untrusted input)
   * @param username - the user the client asks to be
   */
  verify(ticket: unknown, username: string): TicketCheck {
    const match = typeof ticket === 'string' ? TICKET_PATTERN.exec(ticket) : null;
    if (match === null) return { ok: false, reason: 'malformed' };
    const [, id, user64, expiresText, tag] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const signer = this.keys.find(id);
    if (signer === undefined) return { ok: false, reason: 'unknown-key' };
    const body = (ticket as string).slice(0, -(tag.length + 1));
    // Compare the MAC as the text the server wrote, not as decoded bytes: the
    // last of its 43 base64url characters has 2 unused bits, which a decoder
    // ignores, so a byte comparison would accept four spellings of one ticket.
    // The pattern fixed both lengths at 43 ASCII characters.
    const expectedTag = Buffer.from(mac(signer.key, body), 'latin1');
    const givenTag = Buffer.from(tag, 'latin1');
    if (givenTag.length !== expectedTag.length || !timingSafeEqual(givenTag, expectedTag)) {
      return { ok: false, reason: 'bad-mac' };
    }
    const expiresAt = new Date(Number(expiresText) * 1000);
    if (expiresAt.getTime() <= this.now()) return { ok: false, reason: 'expired' };
    const ticketUser = Buffer.from(user64, 'base64url').toString('utf8');
    if (ticketUser !== username) return { ok: false, reason: 'wrong-user' };
    return { ok: true, username: ticketUser, expiresAt };
  }
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(`${MAC_LABEL}\n${body}`).digest('base64url');
}
