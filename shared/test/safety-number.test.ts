import fc from 'fast-check';
import { fingerprint, formatDigits, safetyNumber } from '../src/safety-number';
import { identityOf } from './e2e-fixtures';

const alice = identityOf('alice');
const bob = identityOf('bob');

describe('safety numbers', () => {
  test('both sides compute the same 60 digits, in 12 groups of 5', () => {
    const seenByAlice = safetyNumber(alice, bob);
    const seenByBob = safetyNumber(bob, alice);
    expect(seenByAlice).toBe(seenByBob);
    expect(seenByAlice).toMatch(/^\d{60}$/);
    expect(formatDigits(seenByAlice)).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(formatDigits(seenByAlice, 4).split('\n')).toHaveLength(3);
  });

  test('my fingerprint is 30 digits and is one half of every safety number I share', () => {
    const mine = fingerprint(alice);
    expect(mine).toMatch(/^\d{30}$/);
    expect(safetyNumber(alice, bob)).toContain(mine);
    expect(safetyNumber(alice, identityOf('carol'))).toContain(mine);
  });

  test('it changes when either key changes, or when a name changes', () => {
    const base = safetyNumber(alice, bob);
    expect(safetyNumber(identityOf('alice', '2'), bob)).not.toBe(base);
    expect(safetyNumber(alice, identityOf('bob', '2'))).not.toBe(base);
    // alice's key presented under another name
    expect(safetyNumber({ username: 'alicia', signingKey: alice.signingKey }, bob)).not.toBe(base);
  });

  test('property: any single bit flipped in either key changes the number', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat({ max: 255 }), (first, bit) => {
        const key = Buffer.from((first ? alice : bob).signingKey);
        key[bit >> 3]! ^= 1 << (bit & 7);
        const changed = first
          ? safetyNumber({ username: 'alice', signingKey: key }, bob)
          : safetyNumber(alice, { username: 'bob', signingKey: key });
        expect(changed).not.toBe(safetyNumber(alice, bob));
      }),
      { numRuns: 30 },
    );
  });
});
