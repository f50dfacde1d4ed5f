/**
 * The fingerprint of a server's public key, written the way ssh writes host
 * key fingerprints: `SHA256:` and the unpadded base64 of a SHA-256 digest.
 *
 * Introduced by stage 7. What is hashed is the certificate's
 * SubjectPublicKeyInfo (SPKI) in DER: the key and its algorithm, nothing
 * else. That choice is the lesson:
 *
 * - **The key, not the certificate.** A certificate can be renewed (new dates,
 *   new serial number) around the same key; a pin on the key survives that,
 *   and a pin on the whole certificate would not. HTTP Public Key Pinning
 *   (RFC 7469) pinned the SPKI for the same reason.
 * - **The SPKI, not `peer.pubkey`.** Node's `getPeerCertificate()` has a
 *   `pubkey` field, but for ECDSA it is the raw curve point without the
 *   algorithm, and for Ed25519 it is absent: hashing it pins the wrong bytes,
 *   or nothing at all. Re-parse the DER certificate (`peer.raw`) and export
 *   its public key as SPKI.
 *
 * ```text
 * SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M
 * ```
 *
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { ChatError } from './errors';

/** The prefix every fingerprint starts with: the hash that made it. */
export const FINGERPRINT_PREFIX = 'SHA256:';

// 32 bytes in unpadded base64 are 43 characters; the last one carries 2 bits.
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

/**
 * The fingerprint of DER-encoded SubjectPublicKeyInfo bytes.
 *
 * @param spkiDer - the public key, as SPKI in DER
 * @returns `SHA256:` + 43 characters of unpadded base64
 */
export function fingerprintOfSpki(spkiDer: Uint8Array): string {
  const digest = createHash('sha256').update(spkiDer).digest('base64');
  return FINGERPRINT_PREFIX + digest.replace(/=+$/, '');
}

/**
 * The fingerprint of a certificate's public key.
 *
 * @param certificate - a certificate as DER bytes, PEM text, or a parsed `X509Certificate`
 * @returns `SHA256:…` of the certificate's SPKI
 */
export function fingerprintOfCertificate(
  certificate: X509Certificate | Uint8Array | string,
): string {
  const x509 =
    certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  return fingerprintOfSpki(x509.publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * The fingerprint of the certificate a TLS peer presented
 * (`socket.getPeerCertificate()`).
 *
 * @param peer - what `getPeerCertificate()` returned
 * @returns `SHA256:…`
 * @throws ChatError `TLS_HANDSHAKE` if the peer presented no certificate (a
 *   resumed session carries none: see `tls-client.ts`)
 */
export function fingerprintOfPeer(peer: PeerCertificate): string {
  // An empty object (no `raw`) is what Node returns when there is no certificate.
  if (peer.raw === undefined) {
    throw new ChatError('TLS_HANDSHAKE', 'the server presented no certificate');
  }
  return fingerprintOfCertificate(peer.raw);
}

/**
 * Checks and normalises a fingerprint typed by a person or read from a file.
 * A trailing `=` (padded base64, as some tools print) is accepted and removed.
 *
 * @param text - e.g. the value of `--server-fingerprint`
 * @param what - names the source in the error message
 * @returns the fingerprint in its one canonical form
 * @throws ChatError `BAD_ARGUMENT` unless `text` is `SHA256:` + 43 base64 characters
 */
export function parseFingerprint(text: string, what = 'fingerprint'): string {
  const canonical = text.trim().replace(/=$/, '');
  if (!FINGERPRINT_PATTERN.test(canonical)) {
    throw new ChatError(
      'BAD_ARGUMENT',
      `${what} "${text.trim()}" is not a fingerprint: expected SHA256: and 43 base64 characters, as the server prints at start`,
    );
  }
  return canonical;
}
