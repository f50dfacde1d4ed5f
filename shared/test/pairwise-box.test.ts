import { generateKeyPairSync } from 'node:crypto';
import type { Identity } from '../src/identity-keys';
import {
  decodePairwiseBox,
  encodePairwiseBox,
  openPairwise,
  sealPairwise,
  type PairwiseBox,
} from '../src/pairwise-box';
import fc from 'fast-check';
import { code, hostileFields, identityOf, onlyCodedErrors, publicOf } from './e2e-fixtures';

const alice = identityOf('alice');
const bob = identityOf('bob');
const carol = identityOf('carol');
const secret = Buffer.from('a sender key, say');

/** A box through JSON, as the server relays it. */
const relayed = (box: PairwiseBox) =>
  decodePairwiseBox(JSON.parse(JSON.stringify(encodePairwiseBox(box))));

describe('pairwise box', () => {
  test('alice seals to bob; bob, knowing alice, opens it', () => {
    const box = relayed(sealPairwise(alice, publicOf(bob), secret));
    expect(openPairwise(bob, publicOf(alice), box).equals(secret)).toBe(true);
  });

  test('two boxes of the same bytes differ entirely (a fresh ephemeral key each time)', () => {
    const one = sealPairwise(alice, publicOf(bob), secret);
    const two = sealPairwise(alice, publicOf(bob), secret);
    expect(one.ephemeralKey.equals(two.ephemeralKey)).toBe(false);
    expect(one.box.equals(two.box)).toBe(false);
  });

  test('carol cannot open a box sealed to bob, even re-addressed to her', () => {
    const box = sealPairwise(alice, publicOf(bob), secret);
    // The signature names bob and his key: for carol it does not verify.
    expect(() => openPairwise(carol, publicOf(alice), box)).toThrow(code('BAD_SIGNATURE'));
  });

  test('a box signed by mallory but claimed to be from alice is refused before decryption', () => {
    const mallory = identityOf('mallory');
    // Mallory seals with her own key but under alice's name: the box opens
    // with bob's key, yet the signature is not alice's.
    const forged: Identity = { ...mallory, username: 'alice' };
    const box = sealPairwise(forged, publicOf(bob), secret);
    expect(() => openPairwise(bob, publicOf(alice), box)).toThrow(code('BAD_SIGNATURE'));
  });

  test.each(['ephemeralKey', 'box', 'signature'] as const)(
    'a flipped bit in the %s is refused',
    (part) => {
      const box = sealPairwise(alice, publicOf(bob), secret);
      const changed = { ...box, [part]: Buffer.from(box[part]) };
      changed[part][3]! ^= 0x10;
      expect(() => openPairwise(bob, publicOf(alice), changed)).toThrow(code('BAD_SIGNATURE'));
    },
  );

  test('a signed box that does not open (a broken sender) is DECRYPT_FAILED, not garbage', () => {
    // Alice seals to an X25519 key that is not bob's, but signs as if for bob.
    const other = generateKeyPairSync('x25519');
    const wrongKeys = { ...publicOf(bob), agreementKeyObject: other.publicKey };
    const box = sealPairwise(alice, wrongKeys, secret);
    expect(() => openPairwise(bob, publicOf(alice), box)).toThrow(code('DECRYPT_FAILED'));
  });

  test('whatever arrives as a key box: opened, or a coded error, never a raw throw (property)', () => {
    const wire = encodePairwiseBox(sealPairwise(alice, publicOf(bob), secret));
    const sender = publicOf(alice);
    fc.assert(
      fc.property(hostileFields({ ...wire }), (fields) => {
        onlyCodedErrors(() => openPairwise(bob, sender, decodePairwiseBox(fields)));
      }),
      { numRuns: 2000 },
    );
  });

  test('malformed fields are BAD_FRAME', () => {
    const wire = encodePairwiseBox(sealPairwise(alice, publicOf(bob), secret));
    expect(() => decodePairwiseBox({ ...wire, eph: 'AAAA' })).toThrow(code('BAD_FRAME'));
    expect(() => decodePairwiseBox({ ...wire, sig: undefined })).toThrow(code('BAD_FRAME'));
    expect(() => decodePairwiseBox('box')).toThrow(code('BAD_FRAME'));
  });
});
