/**
 * The logins-per-second scenario, run inside the load process: `concurrency`
 * clients log in, one after another, as `count` different users that already
 * exist (the parent seeded them), and close as soon as they are welcomed.
 *
 * Every login is the real handshake (hello, sealed credentials with the
 * challenge, welcome), so the server does everything it does for a person:
 * open the box, check the challenge, validate, rate-limit, look the user up,
 * compare the password in a hashing worker at the configured cost, claim the
 * name, join the room. With at least as many clients in flight as hashing
 * workers, the workers never wait for work, and the rate can be compared with
 * what they could do at most: workers / time of one comparison.
 *
 * Every login uses a different user, so a client never races its own previous
 * session's departure (a second login of a user still online is refused).
 *
 * @module
 */
import { connectAndLogIn } from '../stage6-auth/src/client-login';
import { BENCH_PASSWORD } from './login-client';
import { runKey, type RunFiles } from './run-files';
import { percentile, Reservoir } from './stats';
import type { LoadEndpoint } from './load-client';

/** The parameters of one logins measurement. */
export interface LoginsJob {
  /** Users to log in as: `PREFIX0` … `PREFIX{count-1}`, all registered beforehand. */
  userPrefix: string;
  /** How many logins (one per user). */
  count: number;
  /** Logins in flight at once. */
  concurrency: number;
}

/** What one logins measurement found. */
export interface LoginsResult {
  /** Logins that ended with a welcome. */
  completed: number;
  /** Logins the server refused or that broke (after the client's own retries). */
  failed: number;
  /** "Busy, come back" answers the logins waited out (each one more connection). */
  busyAnswers: number;
  /** The first failure's message, if any. */
  firstError: string | null;
  /** From the first connect to the last answer, in seconds. */
  seconds: number;
  /** Completed logins per second. */
  loginsPerSecond: number;
  /** Median time from connect to welcome, in milliseconds. */
  p50Ms: number;
  /** 99th percentile time from connect to welcome, in milliseconds. */
  p99Ms: number;
}

/**
 * Runs one logins measurement against a stage 6 server that is already listening.
 *
 * @param endpoint - where the server listens
 * @param job - how many logins, as whom, how many at once
 * @param files - the run's files (the room key)
 * @param mark - called when the first login starts and when the last one ended
 *   (the parent samples the server's CPU time then)
 */
export async function runLogins(
  endpoint: LoadEndpoint,
  job: LoginsJob,
  files: RunFiles,
  mark: (phase: 'start' | 'end') => void,
): Promise<LoginsResult> {
  const key = runKey(files);
  const latencies = new Reservoir(job.count);
  let next = 0;
  let completed = 0;
  let failed = 0;
  let busyAnswers = 0;
  let firstError: string | null = null;

  // One "client" keeps logging in, as the next unused user, until none is left.
  const client = async () => {
    while (next < job.count) {
      const username = `${job.userPrefix}${next++}`;
      const started = performance.now();
      try {
        const session = await connectAndLogIn({
          ...endpoint,
          key,
          username,
          password: BENCH_PASSWORD,
          onRetry: () => busyAnswers++,
        });
        latencies.add(performance.now() - started);
        completed++;
        session.socket.destroy();
      } catch (err) {
        failed++;
        firstError ??= `${username}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  };

  mark('start');
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, client));
  const seconds = (performance.now() - started) / 1000;
  mark('end');
  const sorted = latencies.sorted();
  return {
    completed,
    failed,
    busyAnswers,
    firstError,
    seconds,
    loginsPerSecond: completed / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}
