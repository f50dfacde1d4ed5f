import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KNOWN_MEMBERS_FORMAT, KnownMembers, MAX_KNOWN_MEMBERS } from '../src/known-members';
import { SAVE_INTERVAL_MS } from '../src/paced-save';
import { fingerprint } from '../src/safety-number';
import { code, identityOf } from './e2e-fixtures';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-members-'));
});
afterEach(() => {
  jest.useRealTimers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const alice = identityOf('alice');
const aliceNewDevice = identityOf('alice', 'new device');

describe('known members (trust on first use)', () => {
  test('a first key is recorded and saved (0600); the same key again is known', () => {
    const file = path.join(dir, 'known-members.json');
    const known = KnownMembers.load(file);
    expect(known.observe('alice', alice.signingKey)).toEqual({ status: 'first-use' });
    expect(known.observe('alice', alice.signingKey)).toEqual({ status: 'known' });
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const reloaded = KnownMembers.load(file);
    expect(reloaded.observe('alice', alice.signingKey)).toEqual({ status: 'known' });
  });

  test('a changed key is a loud MEMBER_KEY_CHANGED warning and is not recorded', () => {
    const file = path.join(dir, 'known-members.json');
    KnownMembers.load(file).observe('alice', alice.signingKey);
    const known = KnownMembers.load(file);
    const decision = known.observe('alice', aliceNewDevice.signingKey);
    expect(decision.status).toBe('changed');
    if (decision.status !== 'changed') return;
    const { warning } = decision;
    expect(warning).toMatchObject({
      code: 'MEMBER_KEY_CHANGED',
      username: 'alice',
      previousFingerprint: fingerprint(alice),
      newFingerprint: fingerprint(aliceNewDevice),
    });
    expect(warning.message).toMatch(/^WARNING: the identity key of alice has CHANGED/);
    expect(warning.message).toContain('/verify alice');
    // Still the old key, on disk too: the change is not trusted by default.
    expect(known.signingKeyOf('alice')!.equals(alice.signingKey)).toBe(true);
    expect(KnownMembers.load(file).observe('alice', aliceNewDevice.signingKey).status).toBe(
      'changed',
    );
  });

  test('accepting the new key records it; the old one is then the changed one', () => {
    const file = path.join(dir, 'known-members.json');
    const known = KnownMembers.load(file);
    known.observe('alice', alice.signingKey);
    known.accept('alice', aliceNewDevice.signingKey);
    const reloaded = KnownMembers.load(file);
    expect(reloaded.observe('alice', aliceNewDevice.signingKey).status).toBe('known');
    expect(reloaded.observe('alice', alice.signingKey).status).toBe('changed');
  });

  test('a name like __proto__ is an ordinary name, and a bad file is BAD_IDENTITY_FILE', () => {
    const file = path.join(dir, 'known-members.json');
    const known = KnownMembers.load(file);
    expect(known.observe('__proto__', alice.signingKey).status).toBe('first-use');
    expect(KnownMembers.load(file).observe('__proto__', alice.signingKey).status).toBe('known');
    for (const text of [
      'nope',
      '{"format":"other","members":{}}',
      '{"format":"socket-chat known members v1","members":{"a":"AAAA"}}',
    ]) {
      fs.writeFileSync(file, text, { mode: 0o600 });
      expect(() => KnownMembers.load(file)).toThrow(code('BAD_IDENTITY_FILE'));
    }
  });

  test('a server naming thousands of members cannot make the file too big to load', () => {
    // A file already near the load limit (1 MiB), as a server announcing
    // ghost after ghost with valid names could make it.
    const file = path.join(dir, 'known-members.json');
    const key = Buffer.from(alice.signingKey).toString('base64');
    const name = (i: number) => `ghost${i}`.padEnd(32, 'x');
    const members = Object.fromEntries(Array.from({ length: 11_900 }, (_, i) => [name(i), key]));
    fs.writeFileSync(file, JSON.stringify({ format: KNOWN_MEMBERS_FORMAT, members }, null, 2));
    const known = KnownMembers.load(file);
    // Past MAX_KNOWN_MEMBERS, a new name is trusted for now but not written:
    // before, 50 more names pushed the file past 1 MiB, and the client
    // refused to start until the user deleted it, and every pin with it.
    for (let i = 11_900; i < 11_950; i++) {
      expect(known.observe(name(i), alice.signingKey)).toEqual({ status: 'not-recorded' });
    }
    expect(KnownMembers.load(file).observe(name(0), alice.signingKey).status).toBe('known');
    expect(MAX_KNOWN_MEMBERS).toBeLessThan(11_900);
  });

  test('a server announcing member after member costs one write a second, not one per member', () => {
    // Each write is the whole file: before, 2,000 made-up members, one after
    // another, were 2,000 rewrites of a growing file (11.6 s of the client's
    // time, reading nothing meanwhile), and 10,000 took minutes.
    jest.useFakeTimers();
    const file = path.join(dir, 'known-members.json');
    const known = KnownMembers.load(file);
    const name = (i: number) => `ghost${i}`;
    for (let i = 0; i < 2_000; i++) known.observe(name(i), alice.signingKey);
    const onDisk = () => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).members).length;
    expect(onDisk()).toBe(1); // the first at once; the rest are due within the second
    jest.advanceTimersByTime(SAVE_INTERVAL_MS);
    expect(onDisk()).toBe(2_000);
    known.observe('carol', alice.signingKey);
    known.close(); // the end of the session writes what is pending
    expect(onDisk()).toBe(2_001);
  });

  test('an in-memory store writes nothing', () => {
    const known = KnownMembers.inMemory();
    expect(known.observe('alice', alice.signingKey).status).toBe('first-use');
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
