import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_TICKET_LIFETIME_MS,
  LoginTickets,
  loadTicketKeys,
  saveTicketKeys,
  TicketKeys,
  tlsSessionTicketKeys,
} from '../src/login-ticket';
import { TicketStore } from '../src/ticket-store';
import { respellLastCharacter } from './helpers';

const code = (c: string) => expect.objectContaining({ code: c });
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const HOUR = 60 * 60 * 1000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickets-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A ticket service with a clock the test moves. */
function service(keys = TicketKeys.generate()) {
  const clock = { now: T0 };
  return { clock, keys, tickets: new LoginTickets({ keys, now: () => clock.now }) };
}

describe('LoginTickets', () => {
  test('a fresh ticket is valid for its user, for 24 hours by default', () => {
    const { clock, tickets } = service();
    const { ticket, expiresAt } = tickets.issue('alice');
    expect(ticket).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.YWxpY2U\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime()).toBe(T0 + DEFAULT_TICKET_LIFETIME_MS);
    expect(tickets.verify(ticket, 'alice')).toEqual({ ok: true, username: 'alice', expiresAt });
    clock.now = T0 + 24 * HOUR - 1000;
    expect(tickets.verify(ticket, 'alice')).toMatchObject({ ok: true });
  });

  test('expired: refused at the expiry instant and after', () => {
    const { clock, tickets } = service();
    const { ticket } = tickets.issue('alice');
    clock.now = T0 + 24 * HOUR;
    expect(tickets.verify(ticket, 'alice')).toEqual({ ok: false, reason: 'expired' });
    const short = new LoginTickets({ keys: service().keys, lifetimeMs: HOUR, now: () => T0 });
    expect(short.issue('bob').expiresAt.getTime()).toBe(T0 + HOUR);
  });

  test('tampered: every one-character change anywhere is refused', () => {
    const { tickets } = service();
    const { ticket } = tickets.issue('alice');
    for (let i = 0; i < ticket.length; i++) {
      if (ticket[i] === '.') continue;
      const swapped = ticket[i] === 'A' ? 'B' : 'A';
      const forged = ticket.slice(0, i) + swapped + ticket.slice(i + 1);
      expect(tickets.verify(forged, 'alice')).toMatchObject({ ok: false });
    }
  });

  test("the MAC in another spelling (its last character's two unused bits set) is refused: bad-mac", () => {
    // 32 MAC bytes are 43 base64url characters; the last carries 4 bits of
    // the MAC and 2 unused ones. A decoder ignores the unused bits, so a
    // check on the decoded bytes would accept a second spelling of the same
    // ticket. Tickets are compared as the exact text the server wrote.
    const { tickets } = service();
    const { ticket } = tickets.issue('alice');
    const twin = respellLastCharacter(ticket);
    expect(twin).not.toBe(ticket);
    const tag = (t: string) => Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url');
    expect(tag(twin)).toEqual(tag(ticket)); // the same bytes: only the spelling differs
    expect(tickets.verify(twin, 'alice')).toEqual({ ok: false, reason: 'bad-mac' });
    expect(tickets.verify(ticket, 'alice')).toMatchObject({ ok: true });
  });

  test('a longer expiry or another name with the old MAC: bad-mac (fields are not believed before the MAC)', () => {
    const { tickets } = service();
    const [v, id, user, expiry, mac] = tickets.issue('alice').ticket.split('.');
    const later = [v, id, user, String(Number(expiry) + 365 * 24 * 3600), mac].join('.');
    expect(tickets.verify(later, 'alice')).toEqual({ ok: false, reason: 'bad-mac' });
    const mallory = [v, id, Buffer.from('mallory').toString('base64url'), expiry, mac].join('.');
    expect(tickets.verify(mallory, 'mallory')).toEqual({ ok: false, reason: 'bad-mac' });
  });

  test('made under another key: unknown-key; a retired key still verifies until it is removed', () => {
    const a = service();
    const b = service();
    const fromB = b.tickets.issue('alice').ticket;
    expect(a.tickets.verify(fromB, 'alice')).toEqual({ ok: false, reason: 'unknown-key' });
    // Same id, different key (a forged id): bad-mac.
    const idA = a.keys.current.id;
    const forged = fromB.replace(/^v1\.[^.]+\./, `v1.${idA}.`);
    expect(a.tickets.verify(forged, 'alice')).toEqual({ ok: false, reason: 'bad-mac' });
    // Rotation: a new current key, the old one second.
    const rotated = new TicketKeys([
      TicketKeys.generate().current.key,
      ...b.keys.keys.map((k) => k.key),
    ]);
    const afterRotation = new LoginTickets({ keys: rotated, now: () => T0 });
    expect(afterRotation.verify(fromB, 'alice')).toMatchObject({ ok: true });
    expect(afterRotation.issue('alice').ticket).toContain(`.${rotated.current.id}.`);
  });

  // The rotation the module describes: a new key goes first in the key
  // file, older keys stay after it so that tickets already out keep working,
  // and an old key's line is deleted once its tickets have expired. There is
  // no count of rotations: a key verifies for as long as its line is there.
  // What is attacked: new tickets must be made under the new key from the
  // first rotation on (the test above compares with `current`, so a ring
  // whose `current` was its oldest key passed it); made under the old one,
  // every ticket issued since would die, unannounced, when its line goes.
  test('rotation: the new key makes every new ticket; an older one verifies while its line is kept, however many rotations ago', () => {
    const key = () => TicketKeys.generate().current.key;
    const [k1, k2, k3] = [key(), key(), key()];
    const ring = (...keys: Buffer[]) =>
      new LoginTickets({ keys: new TicketKeys(keys), now: () => T0 });
    const first = ring(k1).issue('alice').ticket;

    // One rotation: k2 first, k1 kept after it.
    const once = ring(k2, k1);
    const second = once.issue('alice').ticket;
    // Made under k2: k2 alone verifies it, k1 alone does not even know its key.
    expect(ring(k2).verify(second, 'alice')).toMatchObject({ ok: true });
    expect(ring(k1).verify(second, 'alice')).toEqual({ ok: false, reason: 'unknown-key' });
    expect(once.verify(first, 'alice')).toMatchObject({ ok: true });

    // Two rotations, both old lines kept: every ticket still verifies.
    const twice = ring(k3, k2, k1);
    expect(ring(k3).verify(twice.issue('alice').ticket, 'alice')).toMatchObject({ ok: true });
    expect(twice.verify(first, 'alice')).toMatchObject({ ok: true });
    expect(twice.verify(second, 'alice')).toMatchObject({ ok: true });

    // k1's line deleted: its tickets are refused as stale, the others are not.
    const retired = ring(k3, k2);
    expect(retired.verify(first, 'alice')).toEqual({ ok: false, reason: 'unknown-key' });
    expect(retired.verify(second, 'alice')).toMatchObject({ ok: true });
  });

  test('for another user: wrong-user', () => {
    const { tickets } = service();
    expect(tickets.verify(tickets.issue('alice').ticket, 'bob')).toEqual({
      ok: false,
      reason: 'wrong-user',
    });
  });

  test.each([
    ['not a string', 42],
    ['empty', ''],
    ['another version', 'v2.AAAAAAAA.YWxpY2U.1.' + 'A'.repeat(43)],
    ['a short MAC', 'v1.AAAAAAAA.YWxpY2U.1.' + 'A'.repeat(42)],
    ['a huge one', 'v1.' + 'A'.repeat(100_000)],
  ])('%s: malformed', (_name, ticket) => {
    expect(service().tickets.verify(ticket, 'alice')).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('ticket key file', () => {
  test('saved 0600 and loaded back with the same ids; KEY_EXISTS without force', () => {
    const file = path.join(dir, 'tls', 'ticket.key');
    const keys = TicketKeys.generate();
    saveTicketKeys(file, keys);
    expect(modeOf(file)).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(loadTicketKeys(file)!.current.id).toBe(keys.current.id);
    expect(() => saveTicketKeys(file, TicketKeys.generate())).toThrow(code('KEY_EXISTS'));
    expect(loadTicketKeys(path.join(dir, 'absent'))).toBeUndefined();
    fs.writeFileSync(file, 'not base64!\n');
    expect(() => loadTicketKeys(file)).toThrow(code('BAD_KEY'));
  });

  // A rotated file, as the server reads it at its next start: the order is
  // the meaning (the first key makes new tickets), and an operator's note
  // or blank line is not a key. Read back in another order, a restart
  // would undo the rotation.
  test('a rotated key file loads with the current key first; comments and blank lines are skipped', () => {
    const file = path.join(dir, 'ticket.key');
    const [newer, older] = [TicketKeys.generate().current, TicketKeys.generate().current];
    saveTicketKeys(file, new TicketKeys([newer.key, older.key]));
    expect(loadTicketKeys(file)!.keys.map((k) => k.id)).toEqual([newer.id, older.id]);
    const b64 = (key: Buffer) => key.toString('base64');
    fs.writeFileSync(
      file,
      `# rotated 2030-01-01: the old key stays one ticket lifetime\n${b64(newer.key)}\n\n${b64(older.key)}\n`,
    );
    const loaded = loadTicketKeys(file)!;
    expect(loaded.keys.map((k) => k.id)).toEqual([newer.id, older.id]);
    expect(loaded.current.id).toBe(newer.id);
  });

  test('TLS session ticket keys: 48 bytes, stable for a key, unrelated to the key itself, and need the private key', () => {
    const pem = () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
    const [privateKey, anotherPrivateKey] = [pem(), pem()];
    const keys = TicketKeys.generate();
    const tls = tlsSessionTicketKeys(keys, privateKey);
    expect(tls).toHaveLength(48);
    expect(tlsSessionTicketKeys(new TicketKeys([keys.current.key]), privateKey)).toEqual(tls);
    expect(tls.includes(keys.current.key.subarray(0, 8))).toBe(false);
    expect(tlsSessionTicketKeys(TicketKeys.generate(), privateKey)).not.toEqual(tls);
    // The ticket key file alone is not enough (see pinning.test.ts in stage 7).
    expect(tlsSessionTicketKeys(keys, anotherPrivateKey)).not.toEqual(tls);
    // After a rotation they follow the new, current key, not the one kept for
    // old tickets: replacing a leaked key file replaces these too.
    const newer = TicketKeys.generate().current.key;
    const rotated = tlsSessionTicketKeys(new TicketKeys([newer, keys.current.key]), privateKey);
    expect(rotated).toEqual(tlsSessionTicketKeys(new TicketKeys([newer]), privateKey));
    expect(rotated).not.toEqual(tls);
  });
});

describe('TicketStore (the client side)', () => {
  test('one 0600 file per server and user, in a 0700 folder; load, replace, forget', () => {
    const store = new TicketStore(path.join(dir, 'tickets'));
    expect(store.load('127.0.0.1:5050', 'alice')).toBeUndefined();
    const { ticket } = service().tickets.issue('alice');
    expect(store.save('127.0.0.1:5050', 'alice', ticket)).toBe(true);
    const file = store.fileFor('127.0.0.1:5050', 'alice');
    expect(path.basename(file)).toBe('127.0.0.1_5050_alice.ticket');
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.dirname(file))).toBe(0o700);
    expect(store.load('127.0.0.1:5050', 'alice')).toBe(ticket);
    expect(store.load('127.0.0.1:5050', 'bob')).toBeUndefined();
    expect(path.basename(store.fileFor('[::1]:5050', 'bob'))).toBe('___1__5050_bob.ticket');
    store.forget('127.0.0.1:5050', 'alice');
    expect(store.load('127.0.0.1:5050', 'alice')).toBeUndefined();
  });

  test('a ticket that says it has expired is kept back: the server would refuse it', () => {
    const store = new TicketStore(path.join(dir, 'tickets'));
    const { ticket, expiresAt } = service().tickets.issue('alice');
    store.save('h:1', 'alice', ticket);
    expect(store.load('h:1', 'alice', expiresAt.getTime() - 1)).toBe(ticket);
    expect(store.load('h:1', 'alice', expiresAt.getTime())).toBeUndefined();
    // Anything else is opaque to the client: sent as it is, for the server to judge.
    store.save('h:1', 'bob', 'v2.some.future.format');
    expect(store.load('h:1', 'bob', Number.MAX_SAFE_INTEGER)).toBe('v2.some.future.format');
  });

  test('a damaged file reads as no ticket; a "ticket" with control characters is never stored', () => {
    const store = new TicketStore(path.join(dir, 'tickets'));
    expect(store.save('h:1', 'alice', 'line one\nline two')).toBe(false);
    expect(store.save('h:1', 'alice', '\x1b[2Jgotcha')).toBe(false);
    expect(fs.existsSync(store.fileFor('h:1', 'alice'))).toBe(false);
    fs.mkdirSync(store.dir, { recursive: true });
    fs.writeFileSync(store.fileFor('h:1', 'alice'), '\x00\x01garbage', { mode: 0o600 });
    expect(store.load('h:1', 'alice')).toBeUndefined();
  });
});
