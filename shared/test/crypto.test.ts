import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import {
  BOX_OVERHEAD,
  generateKey,
  KEY_BYTES,
  NONCE_BYTES,
  open,
  openText,
  seal,
  sealText,
  TAG_BYTES,
} from '../src/crypto';

const ad = Buffer.from('["socket-chat",1,"chat",null]');
const decryptFailed = expect.objectContaining({ code: 'DECRYPT_FAILED' });

function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  const i = bit >> 3;
  copy[i] = copy[i]! ^ (1 << (bit & 7));
  return copy;
}

describe('seal and open (AES-256-GCM boxes)', () => {
  const key = generateKey();

  test('a key is 32 random bytes', () => {
    expect(key).toHaveLength(KEY_BYTES);
    expect(generateKey().equals(key)).toBe(false);
  });

  test('round trip, including empty and multi-byte plaintexts', () => {
    for (const text of ['hello', '', 'héllo 🌍', 'x'.repeat(5000)]) {
      const box = seal(key, Buffer.from(text), ad);
      expect(box).toHaveLength(Buffer.byteLength(text) + BOX_OVERHEAD);
      expect(open(key, box, ad).toString()).toBe(text);
      expect(openText(key, sealText(key, text, ad), ad)).toBe(text);
    }
  });

  test('the layout is nonce | ciphertext | tag (decrypting by hand with that layout works)', () => {
    const box = seal(key, Buffer.from('layout'), ad);
    const d = createDecipheriv('aes-256-gcm', key, box.subarray(0, NONCE_BYTES));
    d.setAAD(ad);
    d.setAuthTag(box.subarray(box.length - TAG_BYTES));
    const plain = Buffer.concat([
      d.update(box.subarray(NONCE_BYTES, box.length - TAG_BYTES)),
      d.final(),
    ]);
    expect(plain.toString()).toBe('layout');
  });

  test('the same plaintext sealed twice gives different nonces and ciphertexts', () => {
    const a = seal(key, Buffer.from('same message'), ad);
    const b = seal(key, Buffer.from('same message'), ad);
    expect(a.subarray(0, NONCE_BYTES).equals(b.subarray(0, NONCE_BYTES))).toBe(false);
    expect(a.subarray(NONCE_BYTES).equals(b.subarray(NONCE_BYTES))).toBe(false);
  });

  test('flipping any single bit of the box (nonce, ciphertext or tag) is rejected', () => {
    const box = seal(key, Buffer.from('attack at dawn'), ad);
    for (let bit = 0; bit < box.length * 8; bit++) {
      expect(() => open(key, flipBit(box, bit), ad)).toThrow(decryptFailed);
    }
  });

  test('flipping any bit of the associated data is rejected', () => {
    const box = seal(key, Buffer.from('bound to its context'), ad);
    for (let bit = 0; bit < ad.length * 8; bit++) {
      expect(() => open(key, box, flipBit(ad, bit))).toThrow(decryptFailed);
    }
    expect(() => open(key, box, Buffer.alloc(0))).toThrow(decryptFailed);
  });

  test('property: a random bit flip anywhere in a random box is rejected', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (plain, n) => {
        const box = seal(key, plain, ad);
        expect(() => open(key, flipBit(box, n % (box.length * 8)), ad)).toThrow(decryptFailed);
      }),
    );
  });

  test('a box sealed with another key is rejected', () => {
    const box = seal(generateKey(), Buffer.from('not for you'), ad);
    expect(() => open(key, box, ad)).toThrow(decryptFailed);
  });

  test('truncated, extended, empty and random boxes are rejected', () => {
    const box = seal(key, Buffer.from('whole'), ad);
    expect(() => open(key, box.subarray(0, box.length - 1), ad)).toThrow(decryptFailed);
    expect(() => open(key, Buffer.concat([box, Buffer.of(0)]), ad)).toThrow(decryptFailed);
    expect(() => open(key, Buffer.alloc(0), ad)).toThrow(decryptFailed);
    expect(() => open(key, Buffer.alloc(BOX_OVERHEAD - 1), ad)).toThrow(decryptFailed);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (junk) => {
        expect(() => open(key, junk, ad)).toThrow(decryptFailed);
      }),
    );
  });

  test('an authentic box whose plaintext is not UTF-8 fails openText, not silently', () => {
    const box = seal(key, Buffer.of(0xff, 0xfe), ad).toString('base64');
    expect(() => openText(key, box, ad)).toThrow(decryptFailed);
  });

  test('a key of the wrong length is BAD_KEY, for sealing and opening', () => {
    const badKey = Buffer.alloc(16);
    expect(() => seal(badKey, Buffer.from('x'), ad)).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
    expect(() => open(badKey, seal(key, Buffer.from('x'), ad), ad)).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
  });
});
