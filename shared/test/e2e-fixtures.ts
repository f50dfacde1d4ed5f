// Shared fixtures for the stage 8 tests: identities (fixed seeds, so failures
// reproduce), their verified public keys, and an error-code matcher.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { isChatError } from '../src/errors';
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

/**
 * Fields as a hostile server (or member) might send them in place of `wire`:
 * some fields kept, others dropped or replaced by base64 of a random length
 * near the real sizes (32 and 64 bytes, and their neighbours), by another
 * field's value, or by junk JSON. What the e2e decoders must survive.
 */
export function hostileFields(wire: Record<string, unknown>): fc.Arbitrary<unknown> {
  const base64 = fc
    .oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc
        .constantFrom(31, 32, 33, 63, 64, 65)
        .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    )
    .map((bytes) => Buffer.from(bytes).toString('base64'));
  const value = fc.oneof(
    base64,
    fc.constantFrom(...Object.values(wire)),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const names = [...Object.keys(wire), 'extra'];
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...names), value).map((changes) => ({ ...wire, ...changes })),
    fc.dictionary(fc.constantFrom(...names), value),
    fc.jsonValue({ maxDepth: 1 }),
  );
}

/**
 * Runs `parse` and lets only a ChatError escape: a raw TypeError or a
 * RangeError from `node:crypto` would be a crash where a coded refusal belongs.
 */
export function onlyCodedErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!isChatError(err)) throw err;
  }
}
