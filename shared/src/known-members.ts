/**
 * Known members: trust on first use of each member's identity key, and a loud
 * warning when it changes.
 *
 * Introduced by stage 8. The first time a client sees a member's key bundle it
 * records the member's Ed25519 key in a local file (mode 0600), as ssh does in
 * `known_hosts`. From then on, the server handing out a *different* key for
 * that name is a {@link KeyChangeWarning} (`MEMBER_KEY_CHANGED`): either the
 * member re-registered or changed device, or someone (the server included)
 * is trying to sit in the middle. The client cannot tell which; the user can,
 * by comparing safety numbers out of band. The new key is not recorded until
 * the user accepts it ({@link KnownMembers.accept}).
 *
 * TOFU's weak spot is the first use: a server that lies from the very start
 * is not caught by this file, only by comparing safety numbers. The file's
 * strength is that a later lie cannot go unnoticed.
 *
 * ```json
 * { "format": "socket-chat known members v1",
 *   "members": { "alice": "<raw Ed25519 public key, base64>" } }
 * ```
 *
 * @module
 */
import { ChatError } from './errors';
import { KEY_BYTES_25519 } from './identity-keys';
import { PacedSave } from './paced-save';
import { readPrivateFile, writePrivateFile } from './private-file';
import { isBase64 } from './base64';
import { fingerprint, formatDigits } from './safety-number';
import { USERNAME_PATTERN } from './user-record';

/** The `format` string of the known-members file. */
export const KNOWN_MEMBERS_FORMAT = 'socket-chat known members v1';

// Larger than MAX_KNOWN_MEMBERS entries can make it: anything larger is the wrong file.
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Most members the file records: 10,000, about 860 KiB with the longest
 * names, under the 1 MiB the loader accepts. Past it, a new member is trusted
 * for the session but not recorded ({@link TrustDecision} `not-recorded`):
 * otherwise a server announcing ghost after ghost could grow the file until
 * it no longer loads, and the user's way out, deleting it, would erase every
 * pin.
 */
export const MAX_KNOWN_MEMBERS = 10_000;

/** The loud warning: a member's identity key is not the one recorded. */
export interface KeyChangeWarning {
  /** Always `MEMBER_KEY_CHANGED`, the stable code to match on. */
  code: 'MEMBER_KEY_CHANGED';
  /** Whose key changed. */
  username: string;
  /** The fingerprint of the recorded key. */
  previousFingerprint: string;
  /** The fingerprint of the key the server offers now. */
  newFingerprint: string;
  /** A multi-line text for the terminal, naming both fingerprints and what to do. */
  message: string;
}

/** What {@link KnownMembers.observe} concluded about a key. */
export type TrustDecision =
  | {
      /** Never seen before: recorded now (trust on first use). */
      status: 'first-use';
    }
  | {
      /** The recorded key. */
      status: 'known';
    }
  | {
      /**
       * Never seen before, and the file is full ({@link MAX_KNOWN_MEMBERS}):
       * trusted for now, not recorded. The user should be told.
       */
      status: 'not-recorded';
    }
  | {
      /** Not the recorded key: not recorded, and the user must be told. */
      status: 'changed';
      /** What to tell them. */
      warning: KeyChangeWarning;
    };

/**
 * The known-members file, loaded. A key the user accepts is written back at
 * once; members met for the first time at once, or within a second when they
 * come faster (`paced-save.ts`): each write is the whole file, and a server
 * can announce members as fast as it likes.
 */
export class KnownMembers {
  private readonly saves = new PacedSave(() => this.save());

  private constructor(
    private readonly file: string | null,
    private readonly keys: Map<string, Buffer>,
  ) {}

  /**
   * Loads the file, or starts empty if there is none.
   *
   * @param file - the path
   * @param warn - receives a warning if its permissions are too open
   * @throws ChatError `BAD_IDENTITY_FILE` if the file is not a known-members file
   */
  static load(file: string, warn?: (message: string) => void): KnownMembers {
    const read = readPrivateFile(file, { maxBytes: MAX_FILE_BYTES, warn });
    if (read.ok) return new KnownMembers(file, parse(read.text, file));
    if (read.reason === 'missing') return new KnownMembers(file, new Map());
    throw new ChatError('BAD_IDENTITY_FILE', read.detail);
  }

  /** An empty store that writes nothing (tests, and clients run without a file). */
  static inMemory(): KnownMembers {
    return new KnownMembers(null, new Map());
  }

  /**
   * Checks `signingKey` against the record for `username`. A first key is
   * recorded (trust on first use); a changed one is reported, not recorded.
   *
   * @param username - the member
   * @param signingKey - the raw Ed25519 key from its verified bundle
   */
  observe(username: string, signingKey: Uint8Array): TrustDecision {
    const known = this.keys.get(username);
    if (known === undefined) {
      if (this.keys.size >= MAX_KNOWN_MEMBERS) return { status: 'not-recorded' };
      this.keys.set(username, Buffer.from(signingKey));
      this.saves.request(); // the server sets this pace: see the class
      return { status: 'first-use' };
    }
    if (known.equals(signingKey)) return { status: 'known' };
    return { status: 'changed', warning: changeWarning(username, known, signingKey) };
  }

  /**
   * Records `signingKey` as `username`'s key, replacing any other: call it
   * only when the user has decided to trust the new key. Written at once.
   *
   * @param username - the member
   * @param signingKey - the raw Ed25519 key
   */
  accept(username: string, signingKey: Uint8Array): void {
    this.keys.set(username, Buffer.from(signingKey));
    this.saves.saveNow(); // the user's decision, not the server's pace
  }

  /** Writes what is not written yet; call it when the session ends. */
  close(): void {
    this.saves.flush();
  }

  /**
   * The recorded key of `username`, if any.
   *
   * @param username - the member
   */
  signingKeyOf(username: string): Buffer | undefined {
    return this.keys.get(username);
  }

  private save(): void {
    if (this.file === null) return;
    const members = Object.fromEntries(
      [...this.keys]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, key]) => [name, key.toString('base64')]),
    );
    writePrivateFile(
      this.file,
      JSON.stringify({ format: KNOWN_MEMBERS_FORMAT, members }, null, 2) + '\n',
      {
        replace: true,
      },
    );
  }
}

function changeWarning(username: string, previous: Buffer, now: Uint8Array): KeyChangeWarning {
  const previousFingerprint = fingerprint({ username, signingKey: previous });
  const newFingerprint = fingerprint({ username, signingKey: now });
  const message = [
    `WARNING: the identity key of ${username} has CHANGED since you first saw it.`,
    `  recorded: ${formatDigits(previousFingerprint)}`,
    `  now:      ${formatDigits(newFingerprint)}`,
    `Either ${username} registered again or moved to a new device, or someone (the server`,
    `included) is impersonating ${username}. Compare safety numbers with /verify ${username}`,
    'over another channel before you trust anything signed with the new key.',
  ].join('\n');
  return { code: 'MEMBER_KEY_CHANGED', username, previousFingerprint, newFingerprint, message };
}

function parse(text: string, file: string): Map<string, Buffer> {
  const bad = () => new ChatError('BAD_IDENTITY_FILE', `${file} is not a known-members file`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad();
  }
  const object = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const members = object.members;
  if (object.format !== KNOWN_MEMBERS_FORMAT || typeof members !== 'object' || members === null) {
    throw bad();
  }
  const keys = new Map<string, Buffer>();
  for (const [name, key] of Object.entries(members)) {
    if (!USERNAME_PATTERN.test(name) || typeof key !== 'string' || !isBase64(key)) throw bad();
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== KEY_BYTES_25519) throw bad();
    keys.set(name, raw);
  }
  return keys;
}
