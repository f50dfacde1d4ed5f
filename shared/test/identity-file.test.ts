import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_SCRYPT_COST,
  loadIdentityFile,
  lockIdentity,
  saveIdentityFile,
  unlockIdentity,
} from '../src/identity-file';
import { encodeKeyBundle, privateKeyBytes } from '../src/identity-keys';
import { code, identityOf } from './e2e-fixtures';

// The floor of the accepted costs (16 MiB, ~50 ms): the default (128 MiB) is
// tested once, the rest use this so the suite stays quick.
const FAST = { cost: { logN: 14, r: 8, p: 1 } };
const unixModes = process.platform !== 'win32';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-file-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const alice = identityOf('alice');
const sameIdentity = (a: typeof alice, b: typeof alice) =>
  expect(encodeKeyBundle(a)).toEqual(encodeKeyBundle(b));

describe('identity file', () => {
  test('saved with the default cost (scrypt N=2^17, r=8, p=1), mode 0600; unlocked with the password', async () => {
    const file = path.join(dir, 'keys', 'alice.json');
    await saveIdentityFile(file, alice, 'correct horse');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { scrypt: object };
    expect(saved.scrypt).toMatchObject(DEFAULT_SCRYPT_COST);
    if (unixModes) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const warnings: string[] = [];
    sameIdentity(await loadIdentityFile(file, 'correct horse', (m) => warnings.push(m)), alice);
    expect(warnings).toEqual([]);
  });

  test('the file holds no private key in the clear', async () => {
    const text = await lockIdentity(alice, 'pw', FAST);
    const bytes = privateKeyBytes(alice);
    for (const seed of [bytes.subarray(0, 32), bytes.subarray(32)]) {
      expect(text).not.toContain(seed.toString('base64url'));
      expect(text).not.toContain(seed.toString('base64'));
    }
  });

  test.each(['wrong', 'correct hors', 'Correct horse', ''])(
    'a wrong password (%j) is KEY_LOCKED, never garbage keys',
    async (guess) => {
      const text = await lockIdentity(alice, 'correct horse', FAST);
      await expect(unlockIdentity(text, guess)).rejects.toEqual(code('KEY_LOCKED'));
    },
  );

  test('the password is NFC-normalised: é as one code point or as e + accent unlocks the same file', async () => {
    const text = await lockIdentity(alice, 'caf\u00e9', FAST);
    sameIdentity(await unlockIdentity(text, 'cafe\u0301'), alice);
  });

  test('changing the username, the cost or the salt in the file locks it (they are associated data)', async () => {
    const text = await lockIdentity(alice, 'pw', FAST);
    const file = JSON.parse(text) as { username: string; scrypt: { r: number; salt: string } };
    const edits = [
      { ...file, username: 'mallory' },
      { ...file, scrypt: { ...file.scrypt, r: 9 } },
      { ...file, scrypt: { ...file.scrypt, salt: Buffer.alloc(16, 1).toString('base64') } },
    ];
    for (const edited of edits) {
      await expect(unlockIdentity(JSON.stringify(edited), 'pw')).rejects.toEqual(
        code('KEY_LOCKED'),
      );
    }
  });

  test('a flipped bit in the sealed keys is KEY_LOCKED', async () => {
    const text = await lockIdentity(alice, 'pw', FAST);
    const file = JSON.parse(text) as { sealed: string };
    const sealed = Buffer.from(file.sealed, 'base64');
    sealed[20]! ^= 1;
    const tampered = JSON.stringify({ ...file, sealed: sealed.toString('base64') });
    await expect(unlockIdentity(tampered, 'pw')).rejects.toEqual(code('KEY_LOCKED'));
  });

  test.each([
    ['not JSON', () => 'hello'],
    [
      'another format',
      (f: Record<string, unknown>) => ({ ...f, format: 'socket-chat identity v2' }),
    ],
    [
      'a cost below the floor',
      (f: Record<string, unknown>) => ({ ...f, scrypt: { ...(f.scrypt as object), logN: 10 } }),
    ],
    [
      'a cost of 1 GiB',
      (f: Record<string, unknown>) => ({ ...f, scrypt: { ...(f.scrypt as object), logN: 20 } }),
    ],
    ['a short sealed field', (f: Record<string, unknown>) => ({ ...f, sealed: 'AAAA' })],
    ['no username', (f: Record<string, unknown>) => ({ ...f, username: undefined })],
  ])('%s is BAD_IDENTITY_FILE', async (_name, edit) => {
    const file = JSON.parse(await lockIdentity(alice, 'pw', FAST)) as Record<string, unknown>;
    const edited = edit(file);
    const text = typeof edited === 'string' ? edited : JSON.stringify(edited);
    await expect(unlockIdentity(text, 'pw')).rejects.toEqual(code('BAD_IDENTITY_FILE'));
  });

  test('an existing file is not replaced (KEY_EXISTS); a missing one is KEY_MISSING', async () => {
    const file = path.join(dir, 'alice.json');
    await saveIdentityFile(file, alice, 'pw', FAST);
    await expect(saveIdentityFile(file, identityOf('alice', '2'), 'pw', FAST)).rejects.toEqual(
      code('KEY_EXISTS'),
    );
    sameIdentity(await loadIdentityFile(file, 'pw'), alice);
    await expect(loadIdentityFile(path.join(dir, 'none.json'), 'pw')).rejects.toEqual(
      code('KEY_MISSING'),
    );
  });

  test('KEY_MISSING names both remedies: --register for a new account, --new-keys for an existing one', async () => {
    const missing = path.join(dir, 'lost.json');
    const attempt = loadIdentityFile(missing, 'pw');
    await expect(attempt).rejects.toEqual(code('KEY_MISSING'));
    // "register" alone sends the owner of an existing account to NAME_TAKEN.
    await expect(attempt).rejects.toThrow(
      `no identity file at ${missing}: pass --register to create a new account with one, or ` +
        '--new-keys to make new keys for an existing account (everyone who saw its old key is warned)',
    );
  });

  test('an empty password cannot seal keys', async () => {
    await expect(lockIdentity(alice, '', FAST)).rejects.toEqual(code('BAD_PASSWORD'));
  });

  test('a file readable by others still loads, with a warning naming chmod 600', async () => {
    const file = path.join(dir, 'alice.json');
    await saveIdentityFile(file, alice, 'pw', FAST);
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    sameIdentity(await loadIdentityFile(file, 'pw', (m) => warnings.push(m)), alice);
    // Windows has no permission bits to warn about.
    expect(warnings).toEqual(unixModes ? [expect.stringContaining('chmod 600')] : []);
  });
});
