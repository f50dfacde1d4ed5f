import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import fc from 'fast-check';
import { generateKey } from '../../shared/src/crypto';
import { REPO_ROOT, LineReader } from '../../shared/test/helpers';
import {
  forgeTag,
  fromBlock,
  gfInverse,
  gfMultiply,
  runNonceReuseDemo,
  sealWithFixedNonce,
  toBlock,
  xor,
} from '../src/nonce-reuse';

const ONE = 1n << 127n; // the polynomial "1" in GCM's bit order
const block = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe('GF(2^128) arithmetic', () => {
  test('one is the identity, multiplication commutes, and x · x⁻¹ = 1', () => {
    fc.assert(
      fc.property(block, block, (x, y) => {
        expect(gfMultiply(x, ONE)).toBe(x);
        expect(gfMultiply(x, y)).toBe(gfMultiply(y, x));
        if (x !== 0n) expect(gfMultiply(x, gfInverse(x))).toBe(ONE);
      }),
      { numRuns: 20 },
    );
  });

  test('blocks round-trip and short inputs are zero-padded', () => {
    expect(fromBlock(toBlock(Buffer.from('ab')))).toEqual(
      Buffer.concat([Buffer.from('ab'), Buffer.alloc(14)]),
    );
  });
});

describe('a fixed nonce, attacked', () => {
  test('the demo: repeats show, the XOR reveals the secret, the forgery opens', () => {
    const r = runNonceReuseDemo();
    expect(r.repeated[0].equals(r.repeated[1])).toBe(true);
    expect(r.fresh[0].equals(r.fresh[1])).toBe(false);
    expect(xor(...r.ciphertexts)).toEqual(
      xor(Buffer.from(r.messages.known), Buffer.from(r.messages.secret)),
    );
    expect(r.recovered).toBe(r.messages.secret);
    expect(r.forgeryOpened).toBe(r.messages.forged);
    expect(r.freshForgeryRejected).toBe(true);
  });

  test('property: any two same-length one-block messages under one nonce let anyone tag a third', () => {
    const key = generateKey();
    const nonce = Buffer.alloc(12, 7);
    const ad = Buffer.from('any associated data, as long as it is the same');
    const decipherOk = (ciphertext: Buffer, tag: Buffer, plaintext: Buffer) => {
      const check = sealWithFixedNonce(key, nonce, plaintext, ad);
      return check.ciphertext.equals(ciphertext) && check.tag.equals(tag);
    };
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 16 })
          .chain((n) =>
            fc.tuple(
              fc.uint8Array({ minLength: n, maxLength: n }),
              fc.uint8Array({ minLength: n, maxLength: n }),
              fc.uint8Array({ minLength: n, maxLength: n }),
            ),
          ),
        ([p1, p2, p3]) => {
          fc.pre(!Buffer.from(p1).equals(Buffer.from(p2)));
          const first = sealWithFixedNonce(key, nonce, p1, ad);
          const second = sealWithFixedNonce(key, nonce, p2, ad);
          const c3 = xor(p3, xor(first.ciphertext, p1));
          const tag = forgeTag(first, second, c3);
          // The forged (ciphertext, tag) is exactly what the key holder would produce for p3.
          expect(decipherOk(c3, tag, Buffer.from(p3))).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });

  test('npx tsx stage5-aes/bin/fixed-iv-demo.ts prints the three attacks and exits 0', async () => {
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, ['stage5-aes/bin/fixed-iv-demo.ts'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = new LineReader(child.stdout);
    const [code] = (await once(child, 'exit')) as [number];
    await out.ended;
    const text = out.lines.join('\n');
    expect(text).toContain('<- identical');
    expect(text).toContain('= "bring the money!"');
    expect(text).toContain('returns: "abort, go home!!"');
    expect(text).toContain('rejected (DECRYPT_FAILED)');
    expect(code).toBe(0);
  });
});
