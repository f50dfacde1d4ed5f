/**
 * The pinning decision: given the key a server just presented, what the
 * client knows about that server, and what the user said on the command
 * line, go on, pin, ask, or refuse.
 *
 * Introduced by stage 7. It is a pure function, apart from the TLS plumbing
 * around it (`tls-client.ts`), so every case is a one-line test, and it is
 * the "write the core" exercise of the chapter (`npm run exercise -- stage7/core`).
 *
 * | pinned key        | `--server-fingerprint` | presented key is…             | decision                 |
 * | ----------------- | ---------------------- | ----------------------------- | ------------------------ |
 * | none (first time) | not given              | anything                      | `ask` (a terminal asks)  |
 * | none (first time) | given                  | the given one                 | `pin`                    |
 * | none (first time) | given                  | another one                   | `FINGERPRINT_MISMATCH`   |
 * | K                 | not given, or K        | K                             | `accept`                 |
 * | K                 | given, not K           | K                             | `FINGERPRINT_MISMATCH`   |
 * | K                 | anything               | not K                         | `KEY_CHANGED`            |
 *
 * A changed key is never accepted here, not even when `--server-fingerprint`
 * names the new one: that flag is for first contact, and a script that
 * passes it on every run must not silently re-pin an attacker's key. A person
 * who has checked the new key forgets the old pin, as ssh's `-R` does.
 *
 * @module
 */
import { ChatError } from './errors';

/** What {@link decidePin} is told. */
export interface PinFacts {
  /** The server, as `HOST:PORT` (see `serverName` in `known-servers.ts`). */
  server: string;
  /** The fingerprint of the key the server presented in this handshake. */
  presented: string;
  /** The fingerprint pinned for this server, or `undefined` on first contact. */
  pinned: string | undefined;
  /** The fingerprint given with `--server-fingerprint`, if any. */
  expected: string | undefined;
  /** The known-servers file, named in messages so the user knows what to edit. */
  knownServersFile: string;
}

/**
 * The outcome when the connection may go on (or may, once a person agrees).
 *
 * - `accept`: the key is the pinned one; send away.
 * - `pin`: first contact, and the key is the one the user named: remember it, then send.
 * - `ask`: first contact and nothing to compare with: show the fingerprint and ask a
 *   person; without a terminal this is `UNKNOWN_SERVER`.
 */
export type PinDecision = 'accept' | 'pin' | 'ask';

/**
 * Decides whether a server's key may be trusted. Fingerprints are compared
 * as canonical strings (see `parseFingerprint`): they are public, so a
 * plain comparison leaks nothing.
 *
 * @param facts - the presented key, the pin, and the user's expectation
 * @returns what to do next
 * @throws ChatError `KEY_CHANGED` if a pinned server presents another key
 * @throws ChatError `FINGERPRINT_MISMATCH` if the key is not the one `--server-fingerprint` names
 */
// #region decide
export function decidePin(facts: PinFacts): PinDecision {
  const { server, presented, pinned, expected, knownServersFile } = facts;
  if (pinned !== undefined && presented !== pinned) {
    throw new ChatError(
      'KEY_CHANGED',
      `the server at ${server} presented the key ${presented}, but ${knownServersFile} pins ` +
        `${pinned} for it. Someone may be intercepting the connection, or the server has a new key. ` +
        `Nothing was sent. Ask the server's operator for its fingerprint over another channel; ` +
        `only if it is ${presented}, delete the line for ${server} from ${knownServersFile} and connect again.`,
    );
  }
  if (expected !== undefined && presented !== expected) {
    throw new ChatError(
      'FINGERPRINT_MISMATCH',
      `the server at ${server} presented the key ${presented}, not ${expected} as --server-fingerprint ` +
        `says. Nothing was sent. Check the fingerprint you were given; if it is right, someone is in the middle.`,
    );
  }
  if (pinned !== undefined) return 'accept';
  return expected !== undefined ? 'pin' : 'ask';
}
// #endregion decide
