import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import { paddingCosts, runBcryptTask } from '../src/bcrypt-worker';
import { isChatError } from '../src/errors';
import {
  MAX_PASSWORD_BYTES,
  checkBcryptCost,
  parseBcryptCost,
  PasswordHasher,
  validateLoginPassword,
  validateNewPassword,
} from '../src/passwords';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isChatError(err) ? err.code : 'not a ChatError';
  }
}

describe('password policy', () => {
  it('accepts ordinary passwords, including non-ASCII ones', () => {
    expect(validateNewPassword('correct horse')).toBe('correct horse');
    expect(validateNewPassword('pässwörd')).toBe('pässwörd');
    expect(validateNewPassword('🔑🔑🔑🔑🔑🔑🔑🔑')).toBe('🔑🔑🔑🔑🔑🔑🔑🔑'); // 8 characters, 32 bytes
  });

  it('rejects non-strings, empty, short and NUL-carrying passwords with BAD_PASSWORD', () => {
    for (const value of [undefined, null, 42, ['password1'], { $gt: '' }, true, '']) {
      expect(codeOf(() => validateNewPassword(value))).toBe('BAD_PASSWORD');
      expect(codeOf(() => validateLoginPassword(value))).toBe('BAD_PASSWORD');
    }
    expect(codeOf(() => validateNewPassword('1234567'))).toBe('BAD_PASSWORD');
    expect(codeOf(() => validateNewPassword('password\0tail'))).toBe('BAD_PASSWORD');
    // Login does not apply the minimum length (it may be raised later).
    expect(validateLoginPassword('short')).toBe('short');
  });

  it('counts UTF-8 bytes, not characters, for the 72-byte limit', () => {
    expect(validateNewPassword('a'.repeat(72))).toHaveLength(72);
    expect(codeOf(() => validateNewPassword('a'.repeat(73)))).toBe('BAD_PASSWORD');
    expect(validateNewPassword('é'.repeat(36))).toHaveLength(36); // 72 bytes
    expect(codeOf(() => validateNewPassword('é'.repeat(37)))).toBe('BAD_PASSWORD'); // 74 bytes
    expect(codeOf(() => validateLoginPassword('🔑'.repeat(19)))).toBe('BAD_PASSWORD'); // 76 bytes
  });

  it('never accepts a password bcrypt would truncate (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (password) => {
        let accepted = false;
        try {
          validateLoginPassword(password);
          accepted = true;
        } catch (err) {
          if (!isChatError(err, 'BAD_PASSWORD')) throw err;
        }
        if (accepted) {
          expect(bcrypt.truncates(password)).toBe(false);
          expect(Buffer.byteLength(password)).toBeLessThanOrEqual(MAX_PASSWORD_BYTES);
        }
      }),
    );
  });

  it('parses the cost option strictly', () => {
    expect(parseBcryptCost('12')).toBe(12);
    for (const bad of ['3', '21', '12.5', '1e1', '+12', 'twelve', '']) {
      expect(codeOf(() => parseBcryptCost(bad))).toBe('BAD_ARGUMENT');
    }
  });

  it('checks a cost given as a number, without going through text', () => {
    expect(checkBcryptCost(4)).toBe(4);
    for (const bad of [3, 21, 12.5, Number.NaN, Infinity]) {
      expect(codeOf(() => checkBcryptCost(bad))).toBe('BAD_ARGUMENT');
    }
  });
});

describe('padding a comparison of an older, cheaper hash', () => {
  it('adds exactly the rounds the stored cost lacks, and none when it lacks none', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 20 }), fc.integer({ min: 4, max: 20 }), (s, t) => {
        const rounds = 2 ** s + paddingCosts(s, t).reduce((sum, c) => sum + 2 ** c, 0);
        expect(rounds).toBe(2 ** Math.max(s, t));
      }),
    );
    expect(paddingCosts(8, 12)).toEqual([8, 9, 10, 11]);
    expect(paddingCosts(NaN, 12)).toEqual([]); // a damaged hash: never matches, no padding
  });

  it('answers the comparison the padding follows', () => {
    const old = bcrypt.hashSync('correct horse', 4);
    const padded = { op: 'compare', hash: old, padToCost: 6 } as const;
    expect(runBcryptTask({ ...padded, password: 'correct horse' })).toBe(true);
    expect(runBcryptTask({ ...padded, password: 'wrong horse' })).toBe(false);
    expect(runBcryptTask({ ...padded, hash: 'not a hash', password: 'x' })).toBe(false);
  });
});

describe('PasswordHasher (worker threads)', () => {
  let hasher: PasswordHasher;
  beforeAll(async () => {
    hasher = await PasswordHasher.start({ cost: 4, workers: 2, maxQueue: 4 });
  });
  afterAll(() => hasher.close());

  it('hashes with the configured cost and a fresh salt, and verifies', async () => {
    const [a, b] = await Promise.all([hasher.hash('correct horse'), hasher.hash('correct horse')]);
    expect(a).toMatch(/^\$2b\$04\$/);
    expect(a).not.toBe(b); // different salts
    await expect(hasher.verify('correct horse', a)).resolves.toBe(true);
    await expect(hasher.verify('wrong horse', a)).resolves.toBe(false);
  });

  it('says no for an unknown user (undefined hash), after a real comparison', async () => {
    await expect(hasher.verify('anything at all', undefined)).resolves.toBe(false);
  });

  it('refuses work beyond the bounded queue with SERVICE_UNAVAILABLE', async () => {
    // 2 running + 4 queued fit; the rest must be refused at once, not queued.
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => hasher.hash('correct horse')),
    );
    const refused = results.filter(
      (r) => r.status === 'rejected' && isChatError(r.reason, 'SERVICE_UNAVAILABLE'),
    );
    expect(refused.length).toBe(6);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6);
  });

  it('keeps the event loop free while a costly hash runs', async () => {
    const slow = await PasswordHasher.start({ cost: 10, workers: 1 });
    try {
      // Count event-loop turns during one hash: on the main thread there would
      // be none until the hash finished; in a worker there are many.
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns++;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      await slow.hash('correct horse');
      spinning = false;
      expect(turns).toBeGreaterThan(10);
    } finally {
      await slow.close();
    }
  });
});
