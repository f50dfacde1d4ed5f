/**
 * Stage 6's two login scenarios, both sides (what they measure: bench/README.md).
 *
 * **Logins per second.** `loginClients` clients keep logging in, each as
 * the next unused user (a second login of a user still online is refused).
 * With at least as many in flight as hashing workers the workers never
 * wait, so at most `workers / t_hash` logins per second; `t_hash` is timed
 * here, right before the server starts, with the very function they run.
 *
 * **Login burst.** A few logged-in clients chat at a steady pace, measured
 * with nothing else happening ("quiet"), then while `burst` others log in
 * at once; the burst's clients close once welcomed, so the room keeps its size.
 *
 * The users are written into a fresh database before the server starts, all
 * with one hash at the configured cost: registering them through the server
 * would cost a hash each and measure nothing.
 *
 * @module
 */
import bcrypt from 'bcryptjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openUserStore } from '../shared/src/user-store';
import { connectAndLogIn } from '../stage6-auth/src/client-login';
import { BENCH_PASSWORD, openLoginClient } from './clients';
import { LoadSession, type LoadRequest, type ScenarioControl } from './load-control';
import type { BenchOptions } from './options';
import { ChatLedger, encodePayload, nowUs } from './payload';
import { runDatabase, runKey, type RunFiles } from './run-files';
import { cpuMeter, withServer, type ServerProcess } from './server-process';
import { percentile, Reservoir, summarize, summarizeLatency, type LatencySummary } from './stats';
import type { LoadEndpoint } from './target';
import { targetNamed } from './targets';

/** Milliseconds between two messages of one chatter in the burst scenario. */
export const CHAT_INTERVAL_MS = 20;
/** Seconds of chat measured with no logins, before the burst. */
export const QUIET_SECONDS = 3;
// Generous: at cost 16 one login takes seconds; the flags bound the sizes instead.
const LOAD_TIMEOUT_MS = 600_000;

/** One round of the logins-per-second scenario. */
export interface LoginMeasurement {
  /** 1-based round number. */
  round: number;
  /** Logins that ended with a welcome. */
  completed: number;
  /** Logins refused or broken (after the client's own retries). */
  failed: number;
  /** "Busy, come back" answers the logins waited out. */
  busyAnswers: number;
  /** The first failure's message, if any. */
  firstError: string | null;
  /** From the first connect to the last answer, in seconds. */
  seconds: number;
  /** Completed logins per second. */
  loginsPerSecond: number;
  /** Time from connect to welcome, ms. */
  p50Ms: number;
  /** See {@link LoginMeasurement.p50Ms}. */
  p99Ms: number;
  /** Milliseconds one bcrypt comparison took in this round (median of a few). */
  hashMs: number;
  /** `workers / t_hash`: the most logins per second the hashing workers allow. */
  maxLoginsPerSecond: number;
  /** `loginsPerSecond / maxLoginsPerSecond`. */
  ratio: number;
  /** Server CPU (all threads) during the logins, percent of one core. */
  serverCpuPercent: number;
}

/** One round of the login-burst scenario. */
export interface BurstMeasurement {
  /** 1-based round number. */
  round: number;
  /** Chat latency with no logins. */
  quiet: LatencySummary;
  /** Chat latency while the burst was served. */
  burst: LatencySummary;
  /** From the burst's first connect to its last answer, in seconds. */
  burstSeconds: number;
  /** Burst logins that ended with a welcome. */
  loginsOk: number;
  /** Burst logins refused or broken (after the client's own retries). */
  loginsFailed: number;
  /** Burst logins told "busy, come back" at least once before they got in. */
  loginsRetried: number;
  /** "Busy, come back" answers in all (each one more connection). */
  busyAnswers: number;
  /** The first failure's message, if any. */
  firstError: string | null;
  /** Deliveries of measured chat messages still missing at the end (should be 0). */
  lost: number;
  /** burst p99 / quiet p99. */
  p99Ratio: number;
  /** The worst delay of a 5-ms timer on the server's main thread during the burst (null: no answer). */
  stallMs: number | null;
  /** Server CPU (all threads) during the burst, percent of one core. */
  serverCpuPercent: number;
}

type LoginsResult = Omit<
  LoginMeasurement,
  'round' | 'hashMs' | 'maxLoginsPerSecond' | 'ratio' | 'serverCpuPercent'
>;
type BurstResult = Omit<BurstMeasurement, 'round' | 'p99Ratio' | 'stallMs' | 'serverCpuPercent'>;

const hashes = new Map<number, string>();

/**
 * Times `bcryptjs.compareSync` at `cost` (one untimed call first, as the
 * server's workers are warm too; then the median of at least 3, or of as
 * many as fit in about 300 ms), and returns a hash of the benchmark
 * password at that cost for seeding.
 */
function timeHash(cost: number): { hash: string; hashMs: number } {
  let hash = hashes.get(cost);
  if (hash === undefined) hashes.set(cost, (hash = bcrypt.hashSync(BENCH_PASSWORD, cost)));
  const compare = () => {
    if (!bcrypt.compareSync(BENCH_PASSWORD, hash)) throw new Error('bcrypt self-check failed');
  };
  compare();
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 3 || (performance.now() - started < 300 && times.length < 200)) {
    const t0 = performance.now();
    compare();
    times.push(performance.now() - t0);
  }
  return { hash, hashMs: summarize(times).median };
}

/**
 * Runs `use` on a stage 6 server (then stops it) whose fresh database holds
 * users `PREFIX0`, `PREFIX1`, … for each group.
 */
async function withSeededServer<R>(
  options: BenchOptions,
  files: RunFiles,
  groups: [prefix: string, count: number][],
  use: (server: ServerProcess) => Promise<R>,
): Promise<R> {
  const { hash } = timeHash(options.bcryptCost);
  const dbFile = runDatabase(files, 'logins');
  const store = await openUserStore({ sqlitePath: dbFile });
  try {
    for (const [prefix, count] of groups) {
      for (let i = 0; i < count; i++) await store.createUser(`${prefix}${i}`, hash);
    }
  } finally {
    await store.close();
  }
  const args = [
    ...['--key-file', files.keyFile, '--db-file', dbFile],
    ...['--bcrypt-cost', String(options.bcryptCost), '--hash-workers', String(options.hashWorkers)],
    ...['--log-level', 'warn'], // keeps per-login lines out of the pipe
    // The chatters send 50 a second each, to sample the p99 finely: more
    // than the message budget, which would measure its pace, not the logins'.
    ...['--message-budget', '1000000000'],
  ];
  return withServer(targetNamed('stage6'), args, use);
}

/** Runs a login scenario's load process against `server`, metering its CPU. */
async function meteredLoad<R>(
  server: ServerProcess,
  type: 'logins' | 'burst',
  job: object,
  files: RunFiles,
  onMark: (phase: 'start' | 'end') => void = () => {},
): Promise<R & { serverCpuPercent: number }> {
  const cpu = cpuMeter(server);
  const request: LoadRequest = { type, endpoint: server.endpoint, files, job };
  const mark = (phase: 'start' | 'end') => {
    cpu.mark(phase);
    onMark(phase);
  };
  const result = await new LoadSession<R>(request, LOAD_TIMEOUT_MS, mark).result;
  return { ...result, serverCpuPercent: cpu.percent };
}

/** One round of the logins-per-second scenario. */
export async function measureLogins(
  options: BenchOptions,
  files: RunFiles,
  round: number,
): Promise<LoginMeasurement> {
  const { hashMs } = timeHash(options.bcryptCost);
  const job = { count: options.logins, concurrency: options.loginClients };
  const result = await withSeededServer(options, files, [['l', options.logins]], (server) =>
    meteredLoad<LoginsResult>(server, 'logins', job, files),
  );
  const maxLoginsPerSecond = options.hashWorkers / (hashMs / 1000);
  const ratio = result.loginsPerSecond / maxLoginsPerSecond;
  return { ...result, round, hashMs, maxLoginsPerSecond, ratio };
}

/** One round of the login-burst scenario. */
export async function measureBurst(
  options: BenchOptions,
  files: RunFiles,
  round: number,
): Promise<BurstMeasurement> {
  const { chatters, burst, payloadBytes } = options;
  const groups: [string, number][] = [
    ['c', chatters],
    ['u', burst],
  ];
  return withSeededServer(options, files, groups, async (server) => {
    let stall: Promise<number | null> = Promise.resolve(null);
    const result = await meteredLoad<BurstResult>(
      server,
      'burst',
      { chatters, burst, payloadBytes },
      files,
      (phase) => (stall = server.stall(phase === 'start' ? 'start' : 'stop')),
    );
    const p99Ratio = result.burst.p99Ms / result.quiet.p99Ms;
    return { ...result, round, p99Ratio, stallMs: await stall };
  });
}

/**
 * Logs `username` in with the real client, which tries again by itself when
 * the server answers "busy" (SERVICE_UNAVAILABLE with a retryAfterMs): those
 * retries are counted. The session closes once welcomed.
 */
async function logIn(endpoint: LoadEndpoint, key: Buffer, username: string) {
  let busy = 0;
  const started = performance.now();
  try {
    const session = await connectAndLogIn({
      ...endpoint,
      key,
      username,
      password: BENCH_PASSWORD,
      onRetry: () => busy++,
    });
    session.socket.destroy();
    return { ok: true as const, ms: performance.now() - started, busy };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { ok: false as const, error, busy };
  }
}

/** Load process: `concurrency` clients log in, each as the next unused user, until none is left. */
export async function runLogins(
  request: LoadRequest,
  control: ScenarioControl,
): Promise<LoginsResult> {
  const job = request.job as { count: number; concurrency: number };
  const key = runKey(request.files);
  const latencies = new Reservoir(job.count);
  let next = 0;
  let failed = 0;
  let busyAnswers = 0;
  let firstError: string | null = null;
  const client = async () => {
    while (next < job.count) {
      const username = `l${next++}`;
      const login = await logIn(request.endpoint, key, username);
      busyAnswers += login.busy;
      if (login.ok) latencies.add(login.ms);
      else {
        failed++;
        firstError ??= `${username}: ${login.error}`;
      }
    }
  };
  control.mark('start');
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, client));
  const seconds = (performance.now() - started) / 1000;
  control.mark('end');
  const sorted = latencies.sorted();
  return {
    completed: latencies.count,
    failed,
    busyAnswers,
    firstError,
    seconds,
    loginsPerSecond: latencies.count / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

/** Load process: the chatters' quiet period, then their chat during the burst of logins. */
export async function runBurst(
  request: LoadRequest,
  control: ScenarioControl,
): Promise<BurstResult> {
  const job = request.job as { chatters: number; burst: number; payloadBytes: number };
  const key = runKey(request.files);
  const periods = { quiet: new Reservoir(), burst: new Reservoir() };
  const bounds = { quietFrom: Infinity, burstFrom: Infinity, burstTo: Infinity };
  const ledger = new ChatLedger(job.chatters - 1, (sentAtUs) =>
    sentAtUs < bounds.quietFrom || sentAtUs >= bounds.burstTo
      ? null
      : sentAtUs < bounds.burstFrom
        ? periods.quiet
        : periods.burst,
  );
  const events = { onPayload: ledger.receive.bind(ledger) };
  const chatters = await Promise.all(
    Array.from({ length: job.chatters }, (_, i) =>
      openLoginClient(request.endpoint, events, key, `c${i}`, false),
    ),
  );
  const timers: NodeJS.Timeout[] = [];
  try {
    // Each chatter sends every interval; their starts are spread over one interval.
    chatters.forEach((chatter, i) => {
      let seq = 0;
      const tick = () => {
        const payload = encodePayload(i, ++seq, job.payloadBytes);
        ledger.sent(payload);
        chatter.send(payload);
      };
      const offset = (CHAT_INTERVAL_MS * i) / job.chatters;
      timers.push(setTimeout(() => timers.push(setInterval(tick, CHAT_INTERVAL_MS)), offset));
    });
    await sleep(1000); // warm-up
    bounds.quietFrom = nowUs();
    await sleep(QUIET_SECONDS * 1000);

    control.mark('start');
    bounds.burstFrom = nowUs();
    const logins = await Promise.all(
      Array.from({ length: job.burst }, (_, i) => logIn(request.endpoint, key, `u${i}`)),
    );
    bounds.burstTo = nowUs();
    control.mark('end');

    for (const timer of timers) clearInterval(timer);
    const lost = await ledger.lost();
    const loginsOk = logins.filter((l) => l.ok).length;
    return {
      quiet: summarizeLatency(periods.quiet),
      burst: summarizeLatency(periods.burst),
      burstSeconds: (bounds.burstTo - bounds.burstFrom) / 1e6,
      loginsOk,
      loginsFailed: job.burst - loginsOk,
      loginsRetried: logins.filter((l) => l.busy > 0).length,
      busyAnswers: logins.reduce((sum, l) => sum + l.busy, 0),
      firstError: logins.find((l) => !l.ok)?.error ?? null,
      lost,
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const chatter of chatters) chatter.close();
  }
}
