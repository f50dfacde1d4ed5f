/**
 * "Not now, but in a moment": an error that says when to try again.
 *
 * Introduced by stage 6. A server that is only *busy* (its hashing queue
 * would not answer a login before the login's deadline, or one address
 * already has many logins queued) should not answer like one that is broken.
 * It refuses with `SERVICE_UNAVAILABLE` plus a `retryAfterMs` hint, as HTTP
 * does with `503` and `Retry-After`, and the client tries again by itself a
 * little later. The hint travels in the error frame; this module is how the
 * server side carries it from where it is decided (the hasher, the rate
 * limiter) to where the frame is written.
 *
 * @module
 */
import { ChatError, type ChatErrorCode } from './errors';

/**
 * A {@link ChatError} that carries how long to wait before trying again.
 *
 * @example
 * ```ts
 * throw new RetryAfterError('SERVICE_UNAVAILABLE', 'the server is busy; try again in 2 s', 2000);
 * ```
 */
export class RetryAfterError extends ChatError {
  /** Milliseconds the client should wait before trying again (a whole number ≥ 1). */
  readonly retryAfterMs: number;

  /**
   * @param code - the stable code (`SERVICE_UNAVAILABLE` or `RATE_LIMITED`)
   * @param message - what the user is told; never internal details
   * @param retryAfterMs - the suggested wait, rounded up to a whole millisecond
   */
  constructor(code: ChatErrorCode, message: string, retryAfterMs: number) {
    super(code, message);
    this.retryAfterMs = Math.max(1, Math.ceil(retryAfterMs));
  }
}

/**
 * The retry hint of an error, if it has one.
 *
 * @param error - anything caught
 * @returns milliseconds to wait, or `undefined`
 */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof RetryAfterError ? error.retryAfterMs : undefined;
}

/**
 * A wait in words for an error message: "in 3 s", "in 1.5 s", "in 2 min".
 *
 * @param ms - milliseconds
 */
export function inWords(ms: number): string {
  if (ms >= 120_000) return `in ${Math.ceil(ms / 60_000)} min`;
  if (ms >= 10_000) return `in ${Math.ceil(ms / 1000)} s`;
  return `in ${Math.max(0.1, Math.ceil(ms / 100) / 10)} s`;
}
