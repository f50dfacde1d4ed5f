/**
 * The report's stage 6 login section: logins per second against the hashing
 * workers' theoretical maximum, and chat latency during a burst of logins
 * against the same chat with no logins.
 *
 * Both results are ratios measured inside one server in one round, so, like
 * the fan-out ratios, they carry over to other machines better than the
 * absolute numbers do.
 *
 * @module
 */
import type { BenchResult } from './bench';
import { CHAT_INTERVAL_MS, MAX_BURST_P99_RATIO, QUIET_SECONDS } from './login-bench';
import { cell, format, table } from './report-format';
import { summarize } from './stats';
import { burstVerdict } from './goals';
import { judgementText } from './verdict';

const col = <M>(rounds: M[], value: (m: M) => number, digits: number) =>
  cell(summarize(rounds.map(value)), digits, { rounds: rounds.length });

/**
 * Formats the logins-per-second rounds as lines (none if they did not run).
 *
 * @param result - a finished run
 */
export function formatLoginsReport(result: BenchResult): string[] {
  const o = result.options;
  const out: string[] = [];
  const logins = result.logins;
  if (logins.length > 0) {
    out.push(
      `stage6 logins: bcrypt cost ${o.bcryptCost}, ${o.hashWorkers} hashing worker(s), ` +
        `${o.loginClients} clients logging in at once, ${o.logins} logins per round; ` +
        `every other server setting as shipped`,
      '',
      table([
        ['logins/s', 't_hash ms', 'max logins/s', 'ratio', 'login p50 ms', 'server CPU %'],
        [
          col(logins, (m) => m.loginsPerSecond, 2),
          col(logins, (m) => m.hashMs, 0),
          col(logins, (m) => m.maxLoginsPerSecond, 2),
          col(logins, (m) => m.ratio, 2),
          col(logins, (m) => m.p50Ms, 0),
          col(logins, (m) => m.serverCpuPercent, 0),
        ],
      ]),
      '',
    );
    const ratio = summarize(logins.map((m) => m.ratio)).median;
    out.push(
      `stage6 logins: ${format(ratio, 2)}x the theoretical maximum ` +
        `(workers / t_hash = ${o.hashWorkers} / t_hash, t_hash timed in this run)`,
    );
  }
  for (const m of logins) {
    if (m.failed > 0) {
      out.push(`warning: logins round ${m.round}: ${m.failed} failed (${m.firstError})`);
    }
    if (m.busyAnswers > 0) {
      out.push(
        `note: logins round ${m.round}: ${m.busyAnswers} "busy, try again" answers waited out`,
      );
    }
  }
  return out;
}

/**
 * Formats the login-burst rounds as lines (none if they did not run).
 *
 * @param result - a finished run
 */
export function formatBurstReport(result: BenchResult): string[] {
  const o = result.options;
  const out: string[] = [];
  const bursts = result.bursts;
  if (bursts.length > 0) {
    out.push(
      `stage6 chat during a login burst: ${o.chatters} clients chatting (one message each ` +
        `every ${CHAT_INTERVAL_MS} ms), then ${o.burst} logins at once at cost ${o.bcryptCost}, ` +
        `from one address, against the server as shipped`,
      '',
      table([
        ['period', 'chat p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'samples', 'lasted s'],
        [
          'no logins',
          col(bursts, (m) => m.quiet.p50Ms, 2),
          col(bursts, (m) => m.quiet.p90Ms, 2),
          col(bursts, (m) => m.quiet.p99Ms, 2),
          col(bursts, (m) => m.quiet.maxMs, 1),
          col(bursts, (m) => m.quiet.samples, 0),
          String(QUIET_SECONDS),
        ],
        [
          `${o.burst} logins`,
          col(bursts, (m) => m.burst.p50Ms, 2),
          col(bursts, (m) => m.burst.p90Ms, 2),
          col(bursts, (m) => m.burst.p99Ms, 2),
          col(bursts, (m) => m.burst.maxMs, 1),
          col(bursts, (m) => m.burst.samples, 0),
          col(bursts, (m) => m.burstSeconds, 1),
        ],
      ]),
      '',
    );
    const ratio = summarize(bursts.map((m) => m.p99Ratio)).median;
    out.push(
      `stage6 chat p99 during logins / without: ${format(ratio, 2)}x ` +
        `(goal <= ${MAX_BURST_P99_RATIO}x: ${judgementText(burstVerdict(result), true)})`,
      '',
      table([
        [
          'logins in',
          'refused for good',
          'told to retry',
          '"busy" answers',
          'main-thread stall ms',
        ],
        [
          col(bursts, (m) => m.loginsOk, 0),
          col(bursts, (m) => m.loginsFailed, 0),
          col(bursts, (m) => m.loginsRetried, 0),
          col(bursts, (m) => m.busyAnswers, 0),
          col(bursts, (m) => m.stallMs ?? NaN, 1),
        ],
      ]),
      '',
      `stage6 burst: "told to retry" logins got SERVICE_UNAVAILABLE with a retryAfterMs ` +
        `(the queue would not answer them in time, or their address had many waiting) and ` +
        `the client tried again by itself; the stall is the worst delay of a 5-ms timer on ` +
        `the server's main thread during the burst (bcrypt runs in a worker thread)`,
    );
  }

  for (const m of bursts) {
    if (m.loginsFailed > 0 || m.lost > 0) {
      out.push(
        `warning: burst round ${m.round}: ${m.loginsFailed} logins failed` +
          `${m.firstError ? ` (${m.firstError})` : ''}, ${m.lost} chat deliveries lost`,
      );
    }
  }
  return out;
}
