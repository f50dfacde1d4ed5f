/**
 * Exercise "write the core": the pinning check (`npm run exercise -- stage7/core`).
 *
 * Write the two functions below. The checks connect to real TLS servers,
 * call your `serverFingerprint` on the certificate each one presents, and
 * your `decide` on every case of the table in stage7-tls/README.md,
 * section "Exercises". The task is stated there; the course's own version
 * is in shared/src/fingerprint.ts and shared/src/pin-decision.ts: try
 * before you look.
 */
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: you will use them */
import type { PeerCertificate } from 'node:tls';
import { ChatError } from '../../../shared/src/errors';

/** What `decide` is told (the same facts as `PinFacts` in shared/src/pin-decision.ts). */
export interface Facts {
  /** The server, `HOST:PORT`. */
  server: string;
  /** The fingerprint of the key the server presented just now. */
  presented: string;
  /** The fingerprint pinned for this server in the known-servers file; `undefined` the first time. */
  pinned: string | undefined;
  /** What the user passed with `--server-fingerprint`, if anything. */
  expected: string | undefined;
  /** The known-servers file, to name in messages. */
  knownServersFile: string;
}

/**
 * The fingerprint of the server's public key, as ssh prints one:
 * `SHA256:` followed by the base64 of the SHA-256 digest of the key's
 * SubjectPublicKeyInfo (DER), without the trailing `=`.
 *
 * @param peer - what `socket.getPeerCertificate()` returned
 */
export function serverFingerprint(peer: PeerCertificate): string {
  throw new ChatError('BAD_ARGUMENT', 'serverFingerprint is not written yet');
}

/**
 * Go on (`'accept'`), remember the key first (`'pin'`), ask a person
 * (`'ask'`), or refuse by throwing a `ChatError` with code `KEY_CHANGED` or
 * `FINGERPRINT_MISMATCH`.
 *
 * @param facts - the presented key, the pinned one, the expected one
 */
export function decide(facts: Facts): 'accept' | 'pin' | 'ask' {
  throw new ChatError('BAD_ARGUMENT', 'decide is not written yet');
}
