/**
 * Server certificates: making a self-signed one, and loading a chain and its
 * key from PEM files.
 *
 * Introduced by stage 7 (`npm run certgen`, and the server's first run).
 *
 * **Why a library.** An X.509 certificate is ASN.1 DER: nested tag-length-value
 * structures, object identifiers, a signature over the exact encoding. Writing
 * that by hand is a lesson in ASN.1, not in TLS, and a subtle bug there is a
 * certificate OpenSSL rejects with an unhelpful message. `@peculiar/x509` is a
 * well-kept, pure TypeScript X.509 library that signs with WebCrypto, so
 * nothing shells out to `openssl` and the same code runs on every OS. It needs
 * `reflect-metadata` loaded first (its dependency injection container reads
 * decorator metadata), and WebCrypto set as its provider.
 *
 * **What is in a certificate made here.** A fresh key pair (ECDSA P-256 by
 * default: every TLS stack accepts it; Ed25519 on request), the host names and
 * addresses clients will use (subject alternative names: `localhost`,
 * `127.0.0.1` and `::1` unless told otherwise), a validity period, and "server
 * authentication" as its only purpose. A pinning client checks the key, not
 * the dates or names (see `pin-decision.ts`); a `--ca` client checks all of them.
 *
 * @module
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { ChatError } from './errors';
import { fingerprintOfCertificate } from './fingerprint';
import { readPrivateFile } from './private-file';

// Node's WebCrypto is the standard one; the cast bridges two copies of its types.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** The key types {@link generateCertificate} can make. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519';

/** The names a certificate is made for when none are given. */
export const DEFAULT_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/**
 * Default validity of a self-signed certificate: ten years. A pinning client
 * ignores the dates (it trusts the key it saw), so a short validity would only
 * force a new key, and every client would then see `KEY_CHANGED`.
 */
export const DEFAULT_VALIDITY_DAYS = 3650;

const DAY_MS = 24 * 60 * 60 * 1000;
// Starts an hour early, so a client whose clock is a little behind accepts it.
const CLOCK_SKEW_MS = 60 * 60 * 1000;

const ALGORITHMS: Record<KeyAlgorithm, webcrypto.EcKeyGenParams | webcrypto.Algorithm> = {
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  ed25519: { name: 'Ed25519' },
};
// ECDSA signs a digest, and the certificate names it; Ed25519 hashes internally.
const SIGNING: Record<KeyAlgorithm, webcrypto.EcdsaParams | webcrypto.Algorithm> = {
  'ecdsa-p256': { name: 'ECDSA', hash: 'SHA-256' },
  ed25519: { name: 'Ed25519' },
};

/** A certificate and key (PEM) that sign other certificates: a test CA, for instance. */
export interface Issuer {
  /** The issuer's certificate, PEM. */
  certificatePem: string;
  /** The issuer's private key, PKCS#8 PEM. */
  privateKeyPem: string;
}

/** Options for {@link generateCertificate}. */
export interface CertificateOptions {
  /** DNS names and IP addresses the certificate is for. Default {@link DEFAULT_HOST_NAMES}. */
  hostNames?: readonly string[];
  /** The key type. Default `'ecdsa-p256'`. */
  algorithm?: KeyAlgorithm;
  /** Days from `now` until it expires. Default {@link DEFAULT_VALIDITY_DAYS}. */
  validDays?: number;
  /** The moment it is made (tests make expired certificates with a past `now`). */
  now?: Date;
  /** The subject's common name. Default: the first host name. */
  commonName?: string;
  /** Sign with this CA instead of self-signing. */
  issuer?: Issuer;
  /** Make a CA certificate (it may sign others) instead of a server certificate. */
  isCa?: boolean;
}

/** What {@link generateCertificate} returns. */
export interface GeneratedCertificate {
  /** The certificate, PEM. */
  certificatePem: string;
  /** Its private key, PKCS#8 PEM: write it with mode 0600, never log it. */
  privateKeyPem: string;
  /** `SHA256:…` of its public key: what clients pin. */
  fingerprint: string;
  /** Valid from. */
  notBefore: Date;
  /** Valid until. */
  notAfter: Date;
  /** The names and addresses it is valid for. */
  hostNames: readonly string[];
}

/**
 * Makes a new key pair and a certificate for it, self-signed unless an
 * `issuer` is given.
 *
 * @param options - names, key type, validity, issuer
 * @returns the certificate and key as PEM, and the key's fingerprint
 */
export async function generateCertificate(
  options: CertificateOptions = {},
): Promise<GeneratedCertificate> {
  const algorithm = options.algorithm ?? 'ecdsa-p256';
  const hostNames = options.hostNames ?? DEFAULT_HOST_NAMES;
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + (options.validDays ?? DEFAULT_VALIDITY_DAYS) * DAY_MS);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHMS[algorithm], true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const name = `CN=${options.commonName ?? hostNames[0] ?? 'socket-chat'}`;
  const extensions: x509.Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ...(options.isCa
      ? [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        ]
      : [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ]),
  ];
  if (hostNames.length > 0) {
    const names = hostNames.map((host) =>
      net.isIP(host) === 0
        ? { type: 'dns' as const, value: host }
        : { type: 'ip' as const, value: host },
    );
    extensions.push(new x509.SubjectAlternativeNameExtension(names));
  }
  const dates = { notBefore, notAfter, serialNumber: randomSerial() };
  let certificate: x509.X509Certificate;
  if (options.issuer === undefined) {
    certificate = await x509.X509CertificateGenerator.createSelfSigned({
      ...dates,
      name,
      keys,
      signingAlgorithm: SIGNING[algorithm],
      extensions,
    });
  } else {
    const issuerCert = new x509.X509Certificate(options.issuer.certificatePem);
    const { key: signingKey, algorithm: issuerAlgorithm } = await importSigningKey(
      options.issuer.privateKeyPem,
    );
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey));
    certificate = await x509.X509CertificateGenerator.create({
      ...dates,
      subject: name,
      issuer: issuerCert.subject,
      publicKey: keys.publicKey,
      signingKey,
      signingAlgorithm: SIGNING[issuerAlgorithm],
      extensions,
    });
  }
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const certificatePem = certificate.toString('pem') + '\n';
  return {
    certificatePem,
    privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
    fingerprint: fingerprintOfCertificate(certificatePem),
    notBefore,
    notAfter,
    hostNames,
  };
}

// A positive 128-bit serial number, hex (RFC 5280 asks for unique and at most 20 bytes).
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function importSigningKey(
  pem: string,
): Promise<{ key: webcrypto.CryptoKey; algorithm: KeyAlgorithm }> {
  const keyObject = createPrivateKey(pem);
  const algorithm: KeyAlgorithm =
    keyObject.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'ecdsa-p256';
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHMS[algorithm], false, [
    'sign',
  ]);
  return { key, algorithm };
}

/** A certificate chain and its private key, checked and ready for `tls.createServer`. */
export interface LoadedCertificate {
  /** The chain as PEM, leaf first: pass as `cert`. */
  chainPem: string;
  /** The private key as PEM: pass as `key`; never log it. */
  privateKeyPem: string;
  /** The leaf (the server's own) certificate. */
  leaf: X509Certificate;
  /** `SHA256:…` of the leaf's public key: what clients pin. */
  fingerprint: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads a certificate chain (PEM, leaf first, then the intermediates a CA
 * gave you) and its private key, and checks that they belong together.
 *
 * @param certFile - the chain, PEM
 * @param keyFile - the leaf's private key, PEM (unencrypted)
 * @param warn - receives a warning if the key file is readable by others
 * @throws ChatError `BAD_CERTIFICATE` for a missing or unreadable file, a
 *   file that is not PEM, a chain out of order, or a key that is not the leaf's
 */
export function loadCertificateFiles(
  certFile: string,
  keyFile: string,
  warn?: (message: string) => void,
): LoadedCertificate {
  const bad = (message: string) => new ChatError('BAD_CERTIFICATE', message);
  let chainText: string;
  try {
    chainText = fs.readFileSync(certFile, 'utf8');
  } catch (err) {
    throw bad(`cannot read the certificate ${certFile}: ${(err as Error).message}`);
  }
  const blocks = chainText.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw bad(`${certFile} holds no PEM certificate`);
  let chain: X509Certificate[];
  try {
    chain = blocks.map((block) => new X509Certificate(block));
  } catch (err) {
    throw bad(`${certFile} holds a certificate that does not parse: ${(err as Error).message}`);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!)) {
      throw bad(
        `${certFile}: certificate ${i + 2} did not issue certificate ${i + 1} (leaf first, then its issuers)`,
      );
    }
  }
  const read = readPrivateFile(keyFile, { warn });
  if (!read.ok) throw bad(`private key: ${read.detail}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(read.text);
  } catch (err) {
    throw bad(`${keyFile} is not an unencrypted PEM private key: ${(err as Error).message}`);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw bad(`${keyFile} is not the private key of the certificate in ${certFile}`);
  }
  return {
    chainPem: blocks.join('\n') + '\n',
    privateKeyPem: read.text,
    leaf,
    fingerprint: fingerprintOfCertificate(leaf),
  };
}
