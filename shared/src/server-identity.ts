/**
 * The files that make a TLS chat server itself: its certificate, its
 * private key and its ticket key; where they live, and creating what is
 * missing on the first run.
 *
 * Introduced by stage 7 (`npm run certgen`, and the server's first start).
 *
 * | file                  | what                              | mode |
 * | --------------------- | --------------------------------- | ---- |
 * | `.data/server.crt`    | certificate chain, PEM, leaf first | 0600 |
 * | `.data/server.key`    | its private key, PKCS#8 PEM       | 0600 |
 * | `.data/ticket.key`    | login ticket keys (`login-ticket.ts`) | 0600 |
 *
 * The certificate is public (every client receives it), so 0600 is only
 * tidiness there; for the two keys it is the point. `.data/` is git-ignored.
 *
 * A server given `--cert` and `--key` (a CA-issued chain) never generates:
 * a missing file there is an error, not a reason to invent a new identity.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  generateCertificate,
  loadCertificateFiles,
  type CertificateOptions,
  type LoadedCertificate,
} from './certificate';
import { ChatError } from './errors';
import { loadTicketKeys, saveTicketKeys, TicketKeys } from './login-ticket';
import { writePrivateFile } from './private-file';

const DATA_DIR = path.resolve(__dirname, '..', '..', '.data');

/** Where a server's identity files are. */
export interface ServerIdentityFiles {
  /** Certificate chain, PEM. */
  certFile: string;
  /** Private key, PEM. */
  keyFile: string;
  /** Ticket keys. */
  ticketKeyFile: string;
}

/** The default files, in the git-ignored `.data/` folder. */
export const DEFAULT_IDENTITY_FILES: Readonly<ServerIdentityFiles> = {
  certFile: path.join(DATA_DIR, 'server.crt'),
  keyFile: path.join(DATA_DIR, 'server.key'),
  ticketKeyFile: path.join(DATA_DIR, 'ticket.key'),
};

/**
 * Chooses the identity files: `--cert`, `--key`, `--ticket-key` if given,
 * else the defaults. The ticket key defaults to `ticket.key` beside the
 * certificate.
 *
 * @param flags - the command-line values
 */
export function resolveIdentityFiles(flags: {
  cert?: string;
  key?: string;
  ticketKey?: string;
}): ServerIdentityFiles {
  const certFile =
    flags.cert === undefined ? DEFAULT_IDENTITY_FILES.certFile : path.resolve(flags.cert);
  return {
    certFile,
    keyFile: flags.key === undefined ? DEFAULT_IDENTITY_FILES.keyFile : path.resolve(flags.key),
    ticketKeyFile:
      flags.ticketKey === undefined
        ? path.join(path.dirname(certFile), 'ticket.key')
        : path.resolve(flags.ticketKey),
  };
}

/** What {@link createServerIdentity} made. */
export interface CreatedIdentity {
  /** The key's fingerprint, `SHA256:…`. */
  fingerprint: string;
  /** The certificate's end of validity. */
  notAfter: Date;
  /** The names it is valid for. */
  hostNames: readonly string[];
  /** Whether a new ticket key file was written (an existing one is kept). */
  wroteTicketKey: boolean;
}

/**
 * Makes a new self-signed certificate and key (and a ticket key file, if
 * there is none), all mode 0600.
 *
 * @param files - where to write
 * @param options - names, key type, validity
 * @param force - replace an existing certificate and key (and ticket key)
 * @throws ChatError `KEY_EXISTS` if the certificate or key exists and `force` is not set
 */
export async function createServerIdentity(
  files: ServerIdentityFiles,
  options: CertificateOptions = {},
  force = false,
): Promise<CreatedIdentity> {
  if (!force) {
    for (const file of [files.certFile, files.keyFile]) {
      if (fs.existsSync(file)) {
        throw new ChatError(
          'KEY_EXISTS',
          `${file} already exists; pass --force to replace it (every client pinned the old key, and will see KEY_CHANGED)`,
        );
      }
    }
  }
  const made = await generateCertificate(options);
  // The key first: a certificate without its key is useless, the reverse is harmless.
  writePrivateFile(files.keyFile, made.privateKeyPem, { replace: true });
  writePrivateFile(files.certFile, made.certificatePem, { replace: true });
  let wroteTicketKey = false;
  if (force || !fs.existsSync(files.ticketKeyFile)) {
    saveTicketKeys(files.ticketKeyFile, TicketKeys.generate(), true);
    wroteTicketKey = true;
  }
  return {
    fingerprint: made.fingerprint,
    notAfter: made.notAfter,
    hostNames: made.hostNames,
    wroteTicketKey,
  };
}

/** Options for {@link ensureServerIdentity}. */
export interface EnsureIdentityOptions {
  /** Create a missing certificate and key (only for the default files). */
  generate: boolean;
  /** Prints what was created (one line each). */
  say: (line: string) => void;
  /** Receives warnings about file modes. */
  warn?: (message: string) => void;
  /** Options for a certificate made here. */
  certificate?: CertificateOptions;
}

/** A server's identity, loaded and ready. */
export interface ServerIdentity {
  /** The certificate chain and key. */
  certificate: LoadedCertificate;
  /** The ticket keys. */
  ticketKeys: TicketKeys;
}

/**
 * Loads the server's identity, first creating what is missing when allowed:
 * a certificate and key when neither exists (a lone one is an error: it
 * would be replaced by a stranger), a ticket key when there is none.
 *
 * @param files - where the files are
 * @param options - whether to generate, and where to say so
 * @throws ChatError `BAD_CERTIFICATE` for a missing file that is not generated,
 *   or files that do not load; `BAD_KEY` for a bad ticket key file
 */
export async function ensureServerIdentity(
  files: ServerIdentityFiles,
  options: EnsureIdentityOptions,
): Promise<ServerIdentity> {
  const haveCert = fs.existsSync(files.certFile);
  const haveKey = fs.existsSync(files.keyFile);
  if (!haveCert && !haveKey && options.generate) {
    const made = await createServerIdentity(files, options.certificate);
    options.say(
      `created a self-signed certificate ${files.certFile} and its key ${files.keyFile} (mode 0600)`,
    );
    if (made.wroteTicketKey)
      options.say(`created the ticket key ${files.ticketKeyFile} (mode 0600)`);
  } else if (!haveCert || !haveKey) {
    const missing = haveCert ? files.keyFile : files.certFile;
    throw new ChatError(
      'BAD_CERTIFICATE',
      `${missing} is missing. Pass --cert and --key, or run \`npm run certgen\` (add --force to replace a lone file)`,
    );
  }
  const certificate = loadCertificateFiles(files.certFile, files.keyFile, options.warn);
  let ticketKeys = loadTicketKeys(files.ticketKeyFile, options.warn);
  if (ticketKeys === undefined) {
    ticketKeys = TicketKeys.generate();
    saveTicketKeys(files.ticketKeyFile, ticketKeys);
    options.say(`created the ticket key ${files.ticketKeyFile} (mode 0600)`);
  }
  return { certificate, ticketKeys };
}
