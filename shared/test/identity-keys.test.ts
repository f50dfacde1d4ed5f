import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { once } from 'node:events';
import {
  encodeKeyBundle,
  generateIdentity,
  identityFromPrivateKeys,
  keyBundleSignedBytes,
  privateKeyBytes,
  verifyKeyBundle,
} from '../src/identity-keys';
import fc from 'fast-check';
import { code, hostileFields, identityOf, onlyCodedErrors } from './e2e-fixtures';
import { REPO_ROOT } from './helpers';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('identity keys', () => {
  test('a new identity has raw 32-byte public keys, and its bundle verifies for its own name', () => {
    const alice = generateIdentity('alice');
    expect(alice.signingKey).toHaveLength(32);
    expect(alice.agreementKey).toHaveLength(32);
    expect(alice.signature).toHaveLength(64);
    const wire = encodeKeyBundle(alice);
    expect(wire.signingKey).toMatch(/^[A-Za-z0-9+/]{43}=$/); // 44 characters: raw, not SPKI
    const keys = verifyKeyBundle('alice', wire);
    expect(keys.signingKey.equals(alice.signingKey)).toBe(true);
    expect(keys.agreementKeyObject.asymmetricKeyType).toBe('x25519');
    expect(keys.signingKeyObject.asymmetricKeyType).toBe('ed25519');
  });

  test('the two key pairs are distinct, one per purpose', () => {
    const alice = generateIdentity('alice');
    expect(alice.signingPrivateKey.asymmetricKeyType).toBe('ed25519');
    expect(alice.agreementPrivateKey.asymmetricKeyType).toBe('x25519');
    expect(alice.signingKey.equals(alice.agreementKey)).toBe(false);
  });

  test('rebuilt from its private keys, an identity is byte for byte the same (deterministic signature)', () => {
    const alice = generateIdentity('alice');
    const raw = privateKeyBytes(alice);
    expect(raw).toHaveLength(64);
    const again = identityFromPrivateKeys('alice', raw.subarray(0, 32), raw.subarray(32));
    expect(encodeKeyBundle(again)).toEqual(encodeKeyBundle(alice));
  });

  test("a bundle relabelled with another user's name is refused (the name is signed)", () => {
    const bob = identityOf('bob');
    expect(() => verifyKeyBundle('alice', encodeKeyBundle(bob))).toThrow(code('BAD_SIGNATURE'));
  });

  test('an X25519 key swapped into a bundle (a server substituting its own) is refused', () => {
    const alice = identityOf('alice');
    const mallory = identityOf('mallory');
    const wire = { ...encodeKeyBundle(alice), agreementKey: b64(mallory.agreementKey) };
    expect(() => verifyKeyBundle('alice', wire)).toThrow(code('BAD_SIGNATURE'));
  });

  test('a bundle signed by another Ed25519 key than the one it names is refused', () => {
    const alice = identityOf('alice');
    const other = generateKeyPairSync('ed25519');
    const signature = sign(
      null,
      keyBundleSignedBytes('alice', alice.signingKey, alice.agreementKey),
      other.privateKey,
    );
    const wire = { ...encodeKeyBundle(alice), signature: b64(signature) };
    expect(() => verifyKeyBundle('alice', wire)).toThrow(code('BAD_SIGNATURE'));
  });

  test.each([
    ['a missing field', { signingKey: undefined }],
    ['a 31-byte key', { signingKey: b64(Buffer.alloc(31)) }],
    ['an SPKI key', { agreementKey: b64(Buffer.alloc(44)) }],
    ['a short signature', { signature: b64(Buffer.alloc(63)) }],
    ['loose base64', { signingKey: 'not base64!' }],
    ['a number', { signature: 7 }],
  ])('%s is BAD_FRAME, never a crash', (_name, change) => {
    const wire = { ...encodeKeyBundle(identityOf('alice')), ...change };
    expect(() => verifyKeyBundle('alice', wire)).toThrow(code('BAD_FRAME'));
    expect(() => verifyKeyBundle('alice', null)).toThrow(code('BAD_FRAME'));
  });

  test('whatever a server sends as a bundle: keys, or a coded error, never a raw throw (property)', () => {
    const wire = encodeKeyBundle(identityOf('alice')) as unknown as Record<string, unknown>;
    fc.assert(
      fc.property(hostileFields(wire), (fields) => {
        onlyCodedErrors(() => verifyKeyBundle('alice', fields));
      }),
      { numRuns: 2000 },
    );
  });

  test('a signed bundle whose X25519 key is a small-order point is refused', () => {
    const alice = identityOf('alice');
    const zero = Buffer.alloc(32);
    const signature = sign(
      null,
      keyBundleSignedBytes('alice', alice.signingKey, zero),
      alice.signingPrivateKey,
    );
    const wire = { ...encodeKeyBundle(alice), agreementKey: b64(zero), signature: b64(signature) };
    expect(() => verifyKeyBundle('alice', wire)).toThrow(code('BAD_FRAME'));
  });

  test('the signed record starts with its label and length-prefixes every field', () => {
    const bytes = keyBundleSignedBytes('a', Buffer.alloc(32, 1), Buffer.alloc(32, 2));
    expect(bytes.subarray(2, 2 + 25).toString()).toBe('socket-chat v8 key bundle');
    expect(bytes).toHaveLength(2 + 25 + 2 + 1 + 4 + 32 + 4 + 32);
    const alice = identityOf('alice');
    const signed = keyBundleSignedBytes('alice', alice.signingKey, alice.agreementKey);
    expect(verify(null, signed, alice.signingKeyObject, alice.signature)).toBe(true);
  });
});

// Node 20 can deadlock exporting freshly made X25519 or Ed25519 KeyObjects
// as JWK: the export holds the key's lock, a garbage collection runs a
// finaliser that wants the same lock, and the thread waits on itself
// forever. A client sealing one pairwise box per member makes a fresh
// ephemeral key per box, so a few busy joins could freeze it. The loop runs
// in a child process, since a deadlocked jest thread could not even time
// out; a hang fails the test at jest's deadline.
describe('raw key bytes under garbage-collection pressure', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  test('50,000 fresh ephemeral keys, each read as raw bytes, and the process exits', async () => {
    const script = [
      "const { generateKeyPairSync } = require('node:crypto');",
      "const { rawPublicKey, privateKeyBytes, generateIdentity } = require('./shared/src/identity-keys');",
      'for (let i = 0; i < 50000; i++) {',
      '  const pair = generateKeyPairSync(i % 2 ? "x25519" : "ed25519");',
      '  rawPublicKey(pair.publicKey);',
      '  rawPublicKey(pair.privateKey);',
      '}',
      "for (let i = 0; i < 2000; i++) privateKeyBytes(generateIdentity('alice'));",
    ].join('\n');
    child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 120_000);
});
