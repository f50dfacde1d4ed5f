/**
 * Opened counters: how far this member has read each sender, kept across
 * sessions, so that a server cannot replay old messages after a reconnect.
 *
 * Introduced by stage 8. Within one session the receiver chains refuse a
 * replay on their own: a used counter is `REPLAYED`, and an epoch not newer
 * than the newest seen is too. But that memory lived in the session, and a
 * reconnect is a new session: a server that recorded a member's traffic
 * could, after the member's next login, hand it an old key box and the
 * messages of that epoch, and they opened again, as new. So the client
 * keeps, per sender, the newest epoch it holds a key for and the next
 * counter it expects in it, in a local file (mode 0600), and the next
 * session starts from there (`ReceiverChains`): an older epoch is refused,
 * and a key box of the same epoch can open nothing below that counter.
 *
 * The file is written at most once a second (`paced-save.ts`): at once when
 * the last write is older, else when the second is up, and at once when a
 * session ends (`close`). A client killed outright forgets at most its last
 * second: the messages of that second could be replayed to it once. Only the
 * newest epoch is kept: an older one is refused whole.
 *
 * ```json
 * { "format": "socket-chat opened counters v1",
 *   "senders": { "alice": { "epoch": 1764770000000, "next": 42 } } }
 * ```
 *
 * @module
 */
import { ChatError } from './errors';
import { PacedSave } from './paced-save';
import { readPrivateFile, writePrivateFile } from './private-file';
import { USERNAME_PATTERN } from './user-record';

/** The `format` string of the opened-counters file. */
export const OPENED_COUNTERS_FORMAT = 'socket-chat opened counters v1';

// 10,000 senders at ~60 bytes each; anything larger is the wrong file.
const MAX_FILE_BYTES = 1024 * 1024;

/** Where a member's reading of one sender stands. */
export interface ReadPosition {
  /** The newest epoch of that sender this member held a key for. */
  readonly epoch: number;
  /** The next counter it expects in that epoch: every one below is used. */
  readonly next: number;
}

/** The opened-counters file, loaded (see the module comment). */
export class OpenedCounters {
  private readonly saves = new PacedSave(() => this.save());

  private constructor(
    private readonly file: string | null,
    private readonly positions: Map<string, ReadPosition>,
  ) {}

  /**
   * Loads the file, or starts empty if there is none.
   *
   * @param file - the path
   * @param warn - receives a warning if its permissions are too open
   * @throws ChatError `BAD_IDENTITY_FILE` if the file is not an opened-counters file
   */
  static load(file: string, warn?: (message: string) => void): OpenedCounters {
    const read = readPrivateFile(file, { maxBytes: MAX_FILE_BYTES, warn });
    if (read.ok) return new OpenedCounters(file, parse(read.text, file));
    if (read.reason === 'missing') return new OpenedCounters(file, new Map());
    throw new ChatError('BAD_IDENTITY_FILE', read.detail);
  }

  /** A store that writes nothing: it remembers for as long as it lives (tests, and clients run without a file). */
  static inMemory(): OpenedCounters {
    return new OpenedCounters(null, new Map());
  }

  /**
   * Where reading `sender` stands, if this member ever held a key of theirs.
   *
   * @param sender - the member who sent
   */
  positionOf(sender: string): ReadPosition | undefined {
    return this.positions.get(sender);
  }

  /**
   * Moves `sender`'s position forward; a position behind the recorded one
   * changes nothing (positions only grow).
   *
   * @param sender - the member who sent
   * @param position - the newest epoch held and the next counter in it
   */
  advance(sender: string, position: ReadPosition): void {
    const known = this.positions.get(sender);
    if (
      known !== undefined &&
      (position.epoch < known.epoch ||
        (position.epoch === known.epoch && position.next <= known.next))
    ) {
      return;
    }
    this.positions.set(sender, { epoch: position.epoch, next: position.next });
    this.saves.request();
  }

  /** Writes what is not written yet; call it when the session ends. */
  close(): void {
    this.saves.flush();
  }

  private save(): void {
    if (this.file === null) return;
    const senders = Object.fromEntries([...this.positions].sort(([a], [b]) => (a < b ? -1 : 1)));
    writePrivateFile(
      this.file,
      JSON.stringify({ format: OPENED_COUNTERS_FORMAT, senders }, null, 2) + '\n',
      { replace: true },
    );
  }
}

function parse(text: string, file: string): Map<string, ReadPosition> {
  const bad = () => new ChatError('BAD_IDENTITY_FILE', `${file} is not an opened-counters file`);
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
  const senders = object.senders;
  if (object.format !== OPENED_COUNTERS_FORMAT || typeof senders !== 'object' || senders === null) {
    throw bad();
  }
  const positions = new Map<string, ReadPosition>();
  for (const [name, entry] of Object.entries(senders)) {
    const { epoch, next } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    if (!USERNAME_PATTERN.test(name) || !isCount(epoch) || !isCount(next)) throw bad();
    positions.set(name, { epoch, next });
  }
  return positions;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
