/**
 * A save that runs at most once per interval: at once when the last one is
 * older than that, otherwise once when the interval is up, with everything
 * that changed meanwhile.
 *
 * Introduced by stage 8, for the client's files that grow with what the
 * server sends (known members, opened counters). Each save rewrites a whole
 * file, so one save per change costs the size of the file per change, and
 * a server announcing made-up members one after another makes the total
 * grow with the square of their number, while the client reads nothing (the
 * figures are in stage 8's NOTES). Paced, a flood costs one write per
 * second; a single change, the usual case, is still written at once. What a
 * client killed outright loses is at most the last interval.
 *
 * @module
 */

/** The default interval between two saves: one second. */
export const SAVE_INTERVAL_MS = 1000;

/** Runs `save` at most once per interval (see the module comment). */
export class PacedSave {
  private dirty = false;
  private lastSave = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param save - writes the whole state
   * @param intervalMs - the least time between two saves
   * @param now - the clock, in ms (jest's fake timers move `Date.now`)
   */
  constructor(
    private readonly save: () => void,
    private readonly intervalMs = SAVE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Something changed: save now, or when the interval is up. */
  request(): void {
    this.dirty = true;
    if (this.timer !== undefined) return; // a save is already due
    const wait = this.lastSave + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait).unref();
  }

  /** Something changed that must not wait (a decision the user made): save now. */
  saveNow(): void {
    this.dirty = true;
    this.flush();
  }

  /** Saves what is not saved yet, now (at the end of a session). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastSave = this.now();
    this.save();
  }
}
