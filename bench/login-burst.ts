/**
 * The login-burst scenario, run inside the load process: do logins stall the
 * chat? A few logged-in clients chat at a steady pace; their end-to-end
 * latency is measured first with nothing else happening ("quiet"), then while
 * `burst` other clients log in all at once ("burst"), and the two are compared.
 *
 * Each login costs the server one bcrypt comparison at the configured cost (a
 * large fraction of a second at the default cost). Stage 6 runs them in worker threads; were
 * they on the event loop, every chat message behind one would wait that long.
 * The burst clients close as soon as they are welcomed, so the room the
 * chatters talk in stays the same size and only the login work differs
 * between the two periods.
 *
 * A message belongs to the period in which it was *sent* (its payload carries
 * the send time), so a message sent during the burst and delivered after it
 * still counts for the burst.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAndLogIn } from '../stage6-auth/src/client-login';
import { BENCH_PASSWORD, openLoginClient } from './login-client';
import { encodePayload, nowUs, parsePayload, type Payload } from './payload';
import { runKey, type RunFiles } from './run-files';
import { Reservoir, summarizeLatency, type LatencySummary } from './stats';
import type { LoadClient, LoadEndpoint } from './load-client';

/** The parameters of one burst measurement. */
export interface BurstJob {
  /** Users that chat: `PREFIX0` …, registered beforehand. */
  chatterPrefix: string;
  /** How many chat. */
  chatters: number;
  /** Milliseconds between two messages of one chatter. */
  intervalMs: number;
  /** Users that log in during the burst: `PREFIX0` …, registered beforehand. */
  burstPrefix: string;
  /** How many log in at once. */
  burst: number;
  /** Unmeasured seconds of chat before the quiet period. */
  warmupSeconds: number;
  /** Length of the quiet period, in seconds. */
  quietSeconds: number;
  /** Size of each chat message's text, in bytes. */
  payloadBytes: number;
}

/** Latency of the chat during one period. */
export type PeriodLatency = LatencySummary;

/** What one burst measurement found. */
export interface BurstResult {
  /** Chat latency with no logins. */
  quiet: PeriodLatency;
  /** Chat latency while the burst was being served. */
  burst: PeriodLatency;
  /** From the burst's first connect to its last answer, in seconds. */
  burstSeconds: number;
  /** Burst logins that ended with a welcome. */
  loginsOk: number;
  /** Burst logins refused or broken (after the client's own retries). */
  loginsFailed: number;
  /** Burst logins that were told "busy, come back" at least once before they got in. */
  loginsRetried: number;
  /** "Busy, come back" answers in all (each cost the client one more connection). */
  busyAnswers: number;
  /** The first failure's message, if any. */
  firstError: string | null;
  /** Deliveries of measured messages still missing at the end (should be 0). */
  lost: number;
}

/**
 * Runs one burst measurement against a stage 6 server that is already listening.
 *
 * @param endpoint - where the server listens
 * @param job - the chat, the burst and the periods
 * @param files - the run's files (the room key)
 * @param mark - called when the burst starts and ends (the parent samples the server's CPU)
 */
export async function runBurst(
  endpoint: LoadEndpoint,
  job: BurstJob,
  files: RunFiles,
  mark: (phase: 'start' | 'end') => void,
): Promise<BurstResult> {
  const key = runKey(files);
  const periods = { quiet: new Reservoir(), burst: new Reservoir() };
  const bounds = { quietFrom: Infinity, burstFrom: Infinity, burstTo: Infinity };
  const parsed: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
  let expected = 0; // deliveries of measured messages owed
  let received = 0;
  const periodOf = (sentAtUs: number) =>
    sentAtUs < bounds.quietFrom
      ? null
      : sentAtUs < bounds.burstFrom
        ? periods.quiet
        : sentAtUs < bounds.burstTo
          ? periods.burst
          : null;

  const onPayload = (payload: string, receivedAtUs: number) => {
    if (!parsePayload(payload, parsed)) return;
    const period = periodOf(parsed.sentAtUs);
    if (period === null) return;
    period.add((receivedAtUs - parsed.sentAtUs) / 1000);
    received++;
  };
  const chatters: LoadClient[] = await Promise.all(
    Array.from({ length: job.chatters }, (_, i) =>
      openLoginClient(endpoint, { onPayload }, key, `${job.chatterPrefix}${i}`, false),
    ),
  );
  const timers: NodeJS.Timeout[] = [];
  try {
    // Each chatter sends every intervalMs; their starts are spread over one interval.
    chatters.forEach((chatter, i) => {
      let seq = 0;
      const sent: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
      const tick = () => {
        const payload = encodePayload(i, ++seq, job.payloadBytes);
        parsePayload(payload, sent); // its send time decides its period, as for the receivers
        if (periodOf(sent.sentAtUs) !== null) expected += job.chatters - 1;
        chatter.send(payload);
      };
      const offset = (job.intervalMs * i) / job.chatters;
      timers.push(setTimeout(() => timers.push(setInterval(tick, job.intervalMs)), offset));
    });
    await sleep(job.warmupSeconds * 1000);
    bounds.quietFrom = nowUs();
    await sleep(job.quietSeconds * 1000);

    mark('start');
    bounds.burstFrom = nowUs();
    const burst = await logInAll(endpoint, key, job.burstPrefix, job.burst);
    bounds.burstTo = nowUs();
    mark('end');

    for (const timer of timers) clearInterval(timer);
    // Let the last measured messages arrive (they carry the latest latencies).
    for (let waited = 0; received < expected && waited < 5_000; waited += 20) await sleep(20);
    return {
      quiet: summarizeLatency(periods.quiet),
      burst: summarizeLatency(periods.burst),
      burstSeconds: (bounds.burstTo - bounds.burstFrom) / 1e6,
      ...burst,
      lost: expected - received,
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const chatter of chatters) chatter.close();
  }
}

/**
 * Logs `count` users in at the same moment; each closes once welcomed. Each
 * is the real client's login, which tries again by itself when the server
 * answers "busy" (SERVICE_UNAVAILABLE with a retryAfterMs): those retries are
 * counted, so the report can say how many got in at once.
 */
async function logInAll(endpoint: LoadEndpoint, key: Buffer, prefix: string, count: number) {
  let firstError: string | null = null;
  let loginsRetried = 0;
  let busyAnswers = 0;
  const results = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      let busy = 0;
      try {
        const session = await connectAndLogIn({
          ...endpoint,
          key,
          username: `${prefix}${i}`,
          password: BENCH_PASSWORD,
          onRetry: () => busy++,
        });
        session.socket.destroy();
      } finally {
        busyAnswers += busy;
        if (busy > 0) loginsRetried++;
      }
    }),
  );
  for (const r of results) {
    if (r.status === 'rejected') {
      const reason: unknown = r.reason;
      firstError ??= reason instanceof Error ? reason.message : String(reason);
    }
  }
  const loginsOk = results.filter((r) => r.status === 'fulfilled').length;
  return { loginsOk, loginsFailed: count - loginsOk, loginsRetried, busyAnswers, firstError };
}
