import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCertificate, loadCertificateFiles } from '../src/certificate';
import { loadTicketKeys } from '../src/login-ticket';
import {
  createServerIdentity,
  ensureServerIdentity,
  resolveIdentityFiles,
  type ServerIdentityFiles,
} from '../src/server-identity';

const code = (c: string) => expect.objectContaining({ code: c });
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const DAY_MS = 24 * 60 * 60 * 1000;

let dir: string;
let files: ServerIdentityFiles;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certificate-'));
  files = resolveIdentityFiles({
    cert: path.join(dir, 'tls', 'server.crt'),
    key: path.join(dir, 'tls', 'server.key'),
  });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('generateCertificate', () => {
  test('a server certificate: the names as SANs, the stated validity, server authentication only', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const made = await generateCertificate({
      hostNames: ['chat.example.org', '127.0.0.1', '::1'],
      validDays: 30,
      now,
    });
    const cert = new X509Certificate(made.certificatePem);
    expect(cert.subjectAltName).toBe(
      'DNS:chat.example.org, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.subject).toBe('CN=chat.example.org');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    expect(new Date(cert.validTo).getTime()).toBe(made.notAfter.getTime());
    expect(made.notAfter.getTime() - now.getTime()).toBe(30 * DAY_MS);
    expect(made.notBefore.getTime()).toBeLessThan(now.getTime()); // an hour of clock skew
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    expect(made.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('by default it is for localhost, 127.0.0.1 and ::1; two certificates never share a key or serial', async () => {
    const [a, b] = await Promise.all([
      generateCertificate(),
      generateCertificate({ algorithm: 'ed25519' }),
    ]);
    const certA = new X509Certificate(a.certificatePem);
    expect(certA.checkHost('localhost')).toBe('localhost');
    expect(certA.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certA.checkIP('::1')).toBe('::1');
    expect(certA.publicKey.asymmetricKeyType).toBe('ec');
    const certB = new X509Certificate(b.certificatePem);
    expect(certB.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(certA.serialNumber).not.toBe(certB.serialNumber);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });
});

describe('loadCertificateFiles', () => {
  test('loads a CA-issued chain (leaf first) and its key', async () => {
    const ca = await generateCertificate({ isCa: true, hostNames: [], commonName: 'Test CA' });
    const leaf = await generateCertificate({
      issuer: { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem },
    });
    fs.mkdirSync(path.dirname(files.certFile), { recursive: true });
    fs.writeFileSync(files.certFile, leaf.certificatePem + ca.certificatePem);
    fs.writeFileSync(files.keyFile, leaf.privateKeyPem, { mode: 0o600 });
    const loaded = loadCertificateFiles(files.certFile, files.keyFile);
    expect(loaded.fingerprint).toBe(leaf.fingerprint);
    expect(loaded.leaf.issuer).toBe('CN=Test CA');
    expect(loaded.chainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    // Issuer first is a mistake operators make: say so.
    fs.writeFileSync(files.certFile, ca.certificatePem + leaf.certificatePem);
    expect(() => loadCertificateFiles(files.certFile, files.keyFile)).toThrow(/leaf first/);
  });

  test('refuses, with BAD_CERTIFICATE: a key of another certificate, no PEM, a missing file, an encrypted key', async () => {
    const [a, b] = await Promise.all([generateCertificate(), generateCertificate()]);
    fs.mkdirSync(path.dirname(files.certFile), { recursive: true });
    fs.writeFileSync(files.certFile, a.certificatePem);
    fs.writeFileSync(files.keyFile, b.privateKeyPem, { mode: 0o600 });
    expect(() => loadCertificateFiles(files.certFile, files.keyFile)).toThrow(
      code('BAD_CERTIFICATE'),
    );
    expect(() => loadCertificateFiles(files.certFile, files.keyFile)).toThrow(
      /not the private key/,
    );
    fs.writeFileSync(files.certFile, 'hello\n');
    expect(() => loadCertificateFiles(files.certFile, files.keyFile)).toThrow(/no PEM certificate/);
    expect(() => loadCertificateFiles(path.join(dir, 'absent.crt'), files.keyFile)).toThrow(
      code('BAD_CERTIFICATE'),
    );
    fs.writeFileSync(files.certFile, a.certificatePem);
    fs.writeFileSync(
      files.keyFile,
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n',
    );
    expect(() => loadCertificateFiles(files.certFile, files.keyFile)).toThrow(
      code('BAD_CERTIFICATE'),
    );
  });

  test('warns when the private key is readable by other users', async () => {
    const made = await generateCertificate();
    fs.mkdirSync(path.dirname(files.certFile), { recursive: true });
    fs.writeFileSync(files.certFile, made.certificatePem);
    fs.writeFileSync(files.keyFile, made.privateKeyPem);
    fs.chmodSync(files.keyFile, 0o644);
    const warnings: string[] = [];
    loadCertificateFiles(files.certFile, files.keyFile, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringContaining(`chmod 600 ${files.keyFile}`)]);
  });
});

describe('server identity files', () => {
  test('the first run creates certificate, key and ticket key (0600, folder 0700) and says so; the next creates nothing', async () => {
    const said: string[] = [];
    const first = await ensureServerIdentity(files, { generate: true, say: (l) => said.push(l) });
    expect(said).toEqual([
      expect.stringContaining(`created a self-signed certificate ${files.certFile}`),
      expect.stringContaining(`created the ticket key ${files.ticketKeyFile}`),
    ]);
    expect(files.ticketKeyFile).toBe(path.join(dir, 'tls', 'ticket.key')); // beside the certificate
    for (const file of [files.certFile, files.keyFile, files.ticketKeyFile])
      expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.dirname(files.certFile))).toBe(0o700);
    expect(fs.readdirSync(path.dirname(files.certFile)).sort()).toEqual([
      'server.crt',
      'server.key',
      'ticket.key',
    ]);

    said.length = 0;
    const second = await ensureServerIdentity(files, { generate: true, say: (l) => said.push(l) });
    expect(said).toEqual([]);
    expect(second.certificate.fingerprint).toBe(first.certificate.fingerprint);
    expect(second.ticketKeys.current.id).toBe(first.ticketKeys.current.id);
  });

  test('a missing ticket key alone is created; a lone key or certificate is an error, never replaced', async () => {
    await createServerIdentity(files);
    fs.rmSync(files.ticketKeyFile);
    const said: string[] = [];
    await ensureServerIdentity(files, { generate: true, say: (l) => said.push(l) });
    expect(said).toEqual([expect.stringContaining('created the ticket key')]);

    fs.rmSync(files.certFile);
    const lone = fs.readFileSync(files.keyFile, 'utf8');
    await expect(ensureServerIdentity(files, { generate: true, say: () => {} })).rejects.toThrow(
      code('BAD_CERTIFICATE'),
    );
    expect(fs.readFileSync(files.keyFile, 'utf8')).toBe(lone);
  });

  test('with --cert/--key (generate: false) nothing is invented: BAD_CERTIFICATE', async () => {
    await expect(ensureServerIdentity(files, { generate: false, say: () => {} })).rejects.toThrow(
      code('BAD_CERTIFICATE'),
    );
    expect(fs.existsSync(files.certFile)).toBe(false);
  });

  test('createServerIdentity refuses to overwrite (KEY_EXISTS) unless forced; forced, the key and ticket key are new', async () => {
    const first = await createServerIdentity(files);
    const ticketKey = loadTicketKeys(files.ticketKeyFile)!.current.id;
    await expect(createServerIdentity(files)).rejects.toThrow(code('KEY_EXISTS'));
    const second = await createServerIdentity(files, {}, true);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.wroteTicketKey).toBe(true);
    expect(loadTicketKeys(files.ticketKeyFile)!.current.id).not.toBe(ticketKey);
    expect(loadCertificateFiles(files.certFile, files.keyFile).fingerprint).toBe(
      second.fingerprint,
    );
  });
});
