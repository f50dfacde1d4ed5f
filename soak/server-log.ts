/**
 * Reads the server's output as it is written and keeps what the soak checks:
 * lines that signal a server-side failure, and which clients the server cut
 * off as slow consumers.
 *
 * Stage 6 writes structured logs (pino: one JSON object per line, on stderr);
 * a failure is an entry at level 50 (`error`) or above, or any stderr line
 * that is not JSON (an uncaught exception's stack trace). Stage 4 prints
 * plain lines on stdout and nothing on stderr, so any stderr line, or a
 * `server error:` line, is a failure.
 *
 * @module
 */

/** The two log formats of the servers under test. */
export type LogFormat = 'pino' | 'plain';

// pino's numeric levels: 50 is error, 60 fatal.
const ERROR_LEVEL = 50;

/** What the soak learns from one server's output. */
export class ServerLog {
  /** Lines that show a server-side failure (kept up to a few, with a count). */
  readonly failures: string[] = [];
  /** How many failure lines there were in all. */
  failureCount = 0;
  /** Whom the server disconnected as a slow consumer (username or label), in order. */
  readonly slowConsumers: string[] = [];
  /** Lines read, per stream. */
  readonly lines = { stdout: 0, stderr: 0 };
  private readonly slowWaiters: (() => boolean)[] = [];

  /** @param format - how this server writes its logs */
  constructor(private readonly format: LogFormat) {}

  /**
   * Feeds one line of the server's output.
   *
   * @param stream - where it was written
   * @param line - the line, without its newline
   */
  accept(stream: 'stdout' | 'stderr', line: string): void {
    this.lines[stream]++;
    if (this.format === 'plain') this.acceptPlain(stream, line);
    else if (stream === 'stderr') this.acceptPino(line);
  }

  /**
   * Resolves once the server has reported `who` as a slow consumer.
   *
   * @param who - the username (stage 6) or label (stage 4)
   */
  slowConsumerReported(who: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.slowConsumers.includes(who)) return false;
        resolve();
        return true;
      };
      if (!check()) this.slowWaiters.push(check);
    });
  }

  /** What a clean log looked like, for the report (when there was no failure). */
  cleanSummary(): string {
    return this.format === 'plain'
      ? `${this.lines.stdout} log lines, nothing on stderr, no "server error"`
      : `${this.lines.stderr} JSON log lines, none at level error/fatal, no stack traces`;
  }

  private acceptPlain(stream: 'stdout' | 'stderr', line: string): void {
    if (stream === 'stderr' || line.startsWith('server error:')) {
      this.fail(line);
      return;
    }
    const slow = /^(\S+) disconnected: SLOW_CONSUMER$/.exec(line);
    if (slow) this.slow(slow[1]!);
  }

  private acceptPino(line: string): void {
    let entry: { level?: unknown; event?: unknown; user?: unknown; code?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.fail(line);
      return;
    }
    if (typeof entry.level !== 'number' || entry.level >= ERROR_LEVEL) this.fail(line);
    if (entry.event === 'slow_consumer' || entry.code === 'SLOW_CONSUMER') {
      this.slow(typeof entry.user === 'string' ? entry.user : '(unnamed)');
    }
  }

  private slow(who: string): void {
    this.slowConsumers.push(who);
    for (let i = this.slowWaiters.length - 1; i >= 0; i--) {
      if (this.slowWaiters[i]!()) this.slowWaiters.splice(i, 1);
    }
  }

  private fail(line: string): void {
    this.failureCount++;
    if (this.failures.length < 5) this.failures.push(line.slice(0, 300));
  }
}
