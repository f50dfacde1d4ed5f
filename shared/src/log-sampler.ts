/**
 * Log sampling: the first few lines of a kind, then a count.
 *
 * Introduced by stage 6. A log line is cheap, but not free: pino writes it
 * synchronously, and someone must store and read it. An attacker who can
 * make the server log one line per cheap action (a bad frame, a refused
 * connection, a failed login answered from the rate limiter) can make it
 * write megabytes per second, stall the event loop on the disk, and bury
 * the lines that matter. So lines that an outsider can cause at will go
 * through a sampler: per kind (the caller chooses the key, e.g.
 * `bad_frame` or `refused:TOO_MANY_CONNECTIONS`), the first `perInterval`
 * lines of each interval are written; the rest are only counted, and when
 * the interval ends one `log_suppressed` line says how many of each kind
 * were left out. The log's growth is then bounded by the number of kinds,
 * not by the attacker's bandwidth.
 *
 * @module
 */
import type { Logger } from './logger';

/** Options for a {@link LogSampler}. */
export interface LogSamplerOptions {
  /** Lines of one kind written per interval before the rest are only counted. Default 20. */
  perInterval?: number;
  /** The interval, in milliseconds. Default 10,000. */
  intervalMs?: number;
}

/**
 * Decides which lines of each kind are written, and reports the rest as counts.
 *
 * @example
 * ```ts
 * const sampler = new LogSampler(logger);
 * if (sampler.allow('bad_frame')) log.info({ event: 'bad_frame' }, 'bad frame');
 * // after a flood, once per interval:
 * // {"event":"log_suppressed","counts":{"bad_frame":15321},"intervalMs":10000,...}
 * ```
 */
export class LogSampler {
  private readonly perInterval: number;
  private readonly intervalMs: number;
  private written = new Map<string, number>();
  private suppressed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param logger - where the `log_suppressed` summaries go (and where callers write the lines they are allowed)
   * @param options - lines per kind and interval
   */
  constructor(
    readonly logger: Logger,
    options: LogSamplerOptions = {},
  ) {
    this.perInterval = options.perInterval ?? 20;
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  /**
   * Whether a line of this kind may be written now; if not, it is counted.
   *
   * @param key - the kind of line
   * @param perInterval - this kind's own allowance, if not the sampler's (1: once per interval)
   */
  allow(key: string, perInterval = this.perInterval): boolean {
    // The first line of a quiet period starts the interval.
    this.timer ??= setInterval(() => this.flush(), this.intervalMs).unref();
    const count = (this.written.get(key) ?? 0) + 1;
    this.written.set(key, count);
    if (count <= perInterval) return true;
    this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
    return false;
  }

  /** Writes the summary of what was left out, if anything, and starts a new interval. */
  flush(): void {
    if (this.suppressed.size > 0) {
      const counts = Object.fromEntries(this.suppressed);
      this.logger.warn(
        { event: 'log_suppressed', counts, intervalMs: this.intervalMs },
        'repeated log lines left out',
      );
    } else if (this.written.size === 0) {
      // A whole interval without a line: stop the timer until the next one.
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.written = new Map();
    this.suppressed = new Map();
  }

  /** Writes the last summary and stops the timer (at shutdown). */
  close(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
