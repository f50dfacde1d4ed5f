// Shared fixtures for the stage 8 tests: identities (fixed seeds, so failures
// reproduce), their verified public keys, and an error-code matcher.
import { createHash } from 'node:crypto';
import {
  encodeKeyBundle,
  identityFromPrivateKeys,
  verifyKeyBundle,
  type Identity,
  type MemberKeys,
} from '../src/identity-keys';

/** A deterministic 32-byte value from a label (test keys only). */
export function bytesFrom(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}

/** An identity whose private keys derive from its name (and a variant, for a "new device"). */
export function identityOf(username: string, variant = ''): Identity {
  return identityFromPrivateKeys(
    username,
    bytesFrom(`${username}${variant} signing`),
    bytesFrom(`${username}${variant} agreement`),
  );
}

/** What another member gets for `identity`: its bundle, through JSON and verification. */
export function publicOf(identity: Identity): MemberKeys {
  const wire = JSON.parse(JSON.stringify(encodeKeyBundle(identity))) as unknown;
  return verifyKeyBundle(identity.username, wire);
}

/** Matches a thrown ChatError by its code. */
export const code = (c: string) => expect.objectContaining({ code: c });
