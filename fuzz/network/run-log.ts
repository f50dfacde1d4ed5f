/**
 * The bookkeeping of one network fuzz run, shared by all its sockets.
 */

/** Shared state of one run: counters, violations, and what each socket is waiting for. */
export class Run {
  /** What went wrong, with where and the payload. */
  readonly violations: string[] = [];
  /** Error codes received, and how often. */
  readonly codes = new Map<string, number>();
  /** Cases finished by anonymous sockets. */
  anonCases = 0;
  /** Cases finished by insiders. */
  insiderCases = 0;
  /** Socket → what it waits for now, for a stall report. */
  readonly waits = new Map<string, string>();

  /** Cases finished in all: the watchdog's measure of progress. */
  get progress(): number {
    return this.anonCases + this.insiderCases;
  }

  /** Records a violation; `payload` is quoted (shortened) to show what caused it. */
  violate(where: string, message: string, payload?: Uint8Array): void {
    const shown = payload === undefined ? '' : ` (payload ${describeBytes(payload)})`;
    this.violations.push(`${where}: ${message}${shown}`);
  }

  /** Counts one error frame received. */
  count(code: string): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
}

function describeBytes(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  return JSON.stringify(
    text.length > 160 ? `${text.slice(0, 160)}… (${bytes.length} bytes)` : text,
  );
}
