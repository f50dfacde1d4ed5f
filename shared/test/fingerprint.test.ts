import { once } from 'node:events';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { generateCertificate } from '../src/certificate';
import {
  fingerprintOfCertificate,
  fingerprintOfPeer,
  fingerprintOfSpki,
  parseFingerprint,
} from '../src/fingerprint';

const code = (c: string) => expect.objectContaining({ code: c });

// Computed another way: the SPKI of the private key's public half, hashed.
function expectedFingerprint(privateKeyPem: string): string {
  const spki = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=$/, '');
}

describe.each(['ecdsa-p256', 'ed25519'] as const)('%s', (algorithm) => {
  test('the fingerprint is SHA256: + unpadded base64 of the SPKI digest, from the certificate a TLS peer presents', async () => {
    const made = await generateCertificate({ algorithm });
    expect(made.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(made.fingerprint).toBe(expectedFingerprint(made.privateKeyPem));
    expect(fingerprintOfCertificate(made.certificatePem)).toBe(made.fingerprint);
    expect(fingerprintOfCertificate(new X509Certificate(made.certificatePem))).toBe(
      made.fingerprint,
    );

    const server = tls.createServer({ cert: made.certificatePem, key: made.privateKeyPem }, (s) =>
      s.end(),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const peer = socket.getPeerCertificate();
    expect(fingerprintOfPeer(peer)).toBe(made.fingerprint);
    // The pitfall: `peer.pubkey` is the raw EC point (ECDSA) or absent (Ed25519).
    if (peer.pubkey === undefined) {
      expect(algorithm).toBe('ed25519');
    } else {
      expect(fingerprintOfSpki(peer.pubkey)).not.toBe(made.fingerprint);
    }
    socket.destroy();
    server.close();
  });
});

test("the fingerprint is the key's, whoever signed the certificate; two keys, two fingerprints", async () => {
  const ca = await generateCertificate({ isCa: true, hostNames: [], commonName: 'CA' });
  const a = await generateCertificate();
  const b = await generateCertificate({
    issuer: { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
  });
  expect(a.fingerprint).not.toBe(b.fingerprint); // two keys
  // The CA's own certificate: its fingerprint is its key's, whoever signed it.
  expect(fingerprintOfCertificate(ca.certificatePem)).toBe(expectedFingerprint(ca.privateKeyPem));
  expect(fingerprintOfCertificate(b.certificatePem)).toBe(expectedFingerprint(b.privateKeyPem));
});

test('an empty peer certificate (a resumed session) is TLS_HANDSHAKE, not a fingerprint of nothing', () => {
  expect(() => fingerprintOfPeer({} as tls.PeerCertificate)).toThrow(code('TLS_HANDSHAKE'));
});

describe('parseFingerprint', () => {
  const good = 'SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M';
  test('accepts the canonical form, with spaces around or a padding =', () => {
    expect(parseFingerprint(good)).toBe(good);
    expect(parseFingerprint(`  ${good}=\n`)).toBe(good);
  });
  test.each([
    ['empty', ''],
    ['no prefix', good.slice(7)],
    ['lower-case prefix', good.replace('SHA256', 'sha256')],
    ['MD5 style', 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'],
    ['one character short', good.slice(0, -1)],
    ['one character long', good + 'A'],
    ['impossible last character (bits past 256)', good.slice(0, -1) + 'N'],
    ['hex digest', 'SHA256:' + 'ab'.repeat(32)],
  ])('refuses %s with BAD_ARGUMENT', (_name, text) => {
    expect(() => parseFingerprint(text)).toThrow(code('BAD_ARGUMENT'));
  });
});
