/**
 * The scale scenario: can a server hold 10,000 logged-in users, what does
 * each cost it in memory, and does their mere presence slow down the ones
 * who talk? One round, for one target (raw, then stage 6, each fresh):
 *
 * 1. `active` clients (100) join and chat at a low, steady rate, the same
 *    with or without the crowd (an open loop on purpose: a closed loop would
 *    slow down with the server and hide the latency it is meant to show);
 *    their latency is measured with nobody else there ("quiet").
 * 2. The server's memory is read after full GCs.
 * 3. `scale` idle clients (10,000) connect, spread over load processes of
 *    at most 5,000 (`IDLE_PER_PROCESS`); stage 6's register and log in (at
 *    bcrypt cost 4: this measures holding users, not hashing them). They are
 *    the target's cheapest client, but still in the room: they receive
 *    every message and every join.
 * 4. The memory is read again: the growth over the idle clients is the
 *    memory per connection, compared with raw's in the same run.
 * 5. The active clients chat again ("crowded"): every message now goes to
 *    10,100 members, so p99 crowded / p99 quiet is what the crowd costs.
 * 6. The server is killed, not stopped: a polite shutdown would announce
 *    every departure to everyone still there, n²/2 frames that measure nothing.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Crowd, openBatched } from './crowd';
import { LoadSession, type LoadRequest, type ScenarioControl } from './load-control';
import { fileLimits } from './machine';
import type { BenchOptions } from './options';
import { ChatLedger, encodePayload, nowUs } from './payload';
import type { RunFiles } from './run-files';
import {
  cpuMeter,
  perConnection,
  withServer,
  settledMemory,
  type PerConnection,
  type ServerProcess,
} from './server-process';
import { Reservoir, summarizeLatency, type LatencySummary } from './stats';
import type { Target } from './target';
import { targetNamed } from './targets';

/** Idle clients one load process holds at most; more are spread over more processes. */
const IDLE_PER_PROCESS = 5000;

/** The active clients' chat during one period, with the server's CPU meanwhile. */
export interface ChatPeriod extends LatencySummary {
  /** Deliveries of measured messages that never arrived (should be 0). */
  lost: number;
  /** Server CPU during the period, percent of one core. */
  serverCpuPercent: number;
}

/** One round of the scale scenario for one target. */
export interface ScaleMeasurement extends PerConnection {
  /** The target's name. */
  target: string;
  /** 1-based round number. */
  round: number;
  /** Idle clients asked for. */
  requested: number;
  /** Idle clients connected (and logged in) at the memory reading. */
  opened: number;
  /** Idle or active clients the server dropped during the round (should be 0). */
  disconnected: number;
  /** Why fewer than `requested` connected, if so (the first refusal). */
  firstError: string | null;
  /** How many load processes held the idle clients. */
  loadProcesses: number;
  /** Seconds from the first idle connection attempt to the last one admitted. */
  connectSeconds: number;
  /** Server CPU seconds spent meanwhile (all threads). */
  connectCpuSeconds: number;
  /** The active clients' chat with nobody else connected. */
  quiet: ChatPeriod;
  /** The same chat with the idle clients connected. */
  crowded: ChatPeriod;
  /** crowded p99 / quiet p99. */
  p99Ratio: number;
  /** The soft open-file limit the server and the load processes started with (null if unknown). */
  serverOpenFiles: number | null;
  /** See {@link ScaleMeasurement.serverOpenFiles}. */
  loadOpenFiles: number | null;
}

interface IdleCrowdResult {
  opened: number;
  disconnected: number;
  firstError: string | null;
}

interface ActiveJob {
  clients: number;
  messagesPerSecond: number;
  payloadBytes: number;
  warmupSeconds: number;
  seconds: number;
}

/** How many load processes hold `count` idle clients. */
function idleProcesses(count: number): number {
  return Math.max(1, Math.ceil(count / IDLE_PER_PROCESS));
}

/** One round of the scale scenario on a fresh server of `target`; `log` hears when the crowd is in. */
export async function measureScale(
  target: Target,
  options: BenchOptions,
  files: RunFiles,
  round: number,
  log: (line: string) => void = () => {},
): Promise<ScaleMeasurement> {
  const sessions: LoadSession[] = [];
  const measure = async (server: ServerProcess): Promise<ScaleMeasurement> => {
    const start = (type: LoadRequest['type'], job: object) => {
      const request = { type, target: target.name, endpoint: server.endpoint, files, job };
      // Generous: logging 10,000 users in is quadratic in stage 6 (joins announced to all).
      const session = new LoadSession(request, 1_800_000);
      sessions.push(session);
      return session;
    };
    const job: ActiveJob = {
      clients: options.active,
      messagesPerSecond: options.activeRate,
      payloadBytes: options.payloadBytes,
      warmupSeconds: 1,
      seconds: options.scaleSeconds,
    };
    const active = start('scale-active', job);
    await active.next('ready');
    const loadOpenFiles = active.pid === undefined ? null : fileLimits(active.pid).soft;
    const quiet = await chatPeriod(active, server);
    const before = await settledMemory(server);

    const processes = idleProcesses(options.scale);
    const idle = Array.from({ length: processes }, (_, p) => {
      const first = Math.floor((options.scale * p) / processes);
      const count = Math.floor((options.scale * (p + 1)) / processes) - first;
      return start('scale-idle', { first, count });
    });
    const connectStarted = performance.now();
    const cpuBefore = server.cpuSeconds();
    await Promise.all(idle.map((s) => s.next('ready')));
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const connectCpuSeconds = server.cpuSeconds() - cpuBefore;
    log(
      `${target.name}: ${options.scale} idle clients connected in ${connectSeconds.toFixed(1)} s ` +
        `(server CPU ${connectCpuSeconds.toFixed(1)} s)`,
    );
    const after = await settledMemory(server);
    const crowded = await chatPeriod(active, server);

    for (const s of [...idle, active]) s.send({ type: 'release' });
    const crowds = (await Promise.all(idle.map((s) => s.result))) as IdleCrowdResult[];
    const activeResult = (await active.result) as { disconnected: number };
    const opened = crowds.reduce((sum, r) => sum + r.opened, 0);
    return {
      target: target.name,
      round,
      requested: options.scale,
      opened,
      disconnected: crowds.reduce((sum, r) => sum + r.disconnected, activeResult.disconnected),
      firstError: crowds.find((r) => r.firstError !== null)?.firstError ?? null,
      loadProcesses: processes,
      connectSeconds,
      connectCpuSeconds,
      ...perConnection(before, after, opened),
      quiet,
      crowded,
      p99Ratio: crowded.p99Ms / quiet.p99Ms,
      serverOpenFiles: server.openFilesLimit(),
      loadOpenFiles,
    };
  };
  try {
    return await withServer(target, target.serverArgs?.(files), measure, 'kill');
  } finally {
    for (const s of sessions) s.kill();
  }
}

/** One measured chat period of the active clients, metering the server's CPU. */
async function chatPeriod(active: LoadSession, server: ServerProcess): Promise<ChatPeriod> {
  const cpu = cpuMeter(server);
  cpu.mark('start');
  active.send({ type: 'measure' });
  const { latency, lost } = await active.next('period');
  cpu.mark('end');
  return { ...latency, lost, serverCpuPercent: cpu.percent };
}

/**
 * Load process: opens an idle crowd, reports `ready`, holds it until
 * `release`. A refused client stops the opening, not the scenario: "the
 * server held 6,000 of 10,000, then refused with …" is a result too.
 */
export async function runIdleCrowd(
  request: LoadRequest,
  control: ScenarioControl,
): Promise<IdleCrowdResult> {
  const { first, count } = request.job as { first: number; count: number };
  const target = targetNamed(request.target!);
  const context = (index: number) => ({ files: request.files, index: first + index });
  const { clients, failure } = await openBatched(count, (index) =>
    target.openIdleClient
      ? target.openIdleClient(request.endpoint, context(index))
      : target.openClient(request.endpoint, { onPayload: () => {} }, context(index)),
  );
  try {
    await control.hold();
    return {
      opened: clients.length,
      disconnected: clients.filter((c) => c.closed).length,
      firstError: failure && errorText(failure.reason),
    };
  } finally {
    for (const client of clients) client.close();
  }
}

function errorText(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  const code = (reason as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${reason.message}` : reason.message;
}

/**
 * Load process: opens the active clients, reports `ready`, then runs one
 * chat period per `measure` (answered with a `period`) until `release`. The
 * clients take turns, one message every 1/rate seconds; a message belongs
 * to the period it was sent in.
 */
export async function runActive(request: LoadRequest, control: ScenarioControl) {
  const job = request.job as ActiveJob;
  let period = { from: Infinity, to: Infinity, latencies: new Reservoir() };
  const inPeriod = (sentAtUs: number) =>
    sentAtUs >= period.from && sentAtUs < period.to ? period.latencies : null;
  let ledger = new ChatLedger(job.clients - 1, inPeriod);
  const crowd = await Crowd.open(request, job.clients, (_receiver, payload, receivedAtUs) =>
    ledger.receive(payload, receivedAtUs),
  );
  try {
    await control.send({ type: 'ready' });
    let seq = 0;
    while ((await control.next()).type === 'measure') {
      period = { from: Infinity, to: Infinity, latencies: new Reservoir() };
      ledger = new ChatLedger(job.clients - 1, inPeriod);
      let turn = 0;
      const timer = setInterval(() => {
        const sender = turn++ % job.clients;
        const payload = encodePayload(sender, ++seq, job.payloadBytes);
        ledger.sent(payload);
        crowd.clients[sender]!.send(payload);
      }, 1000 / job.messagesPerSecond);
      await sleep(job.warmupSeconds * 1000);
      period.from = nowUs();
      await sleep(job.seconds * 1000);
      period.to = nowUs();
      clearInterval(timer);
      // Let the last measured messages arrive: they carry the latest latencies.
      const lost = await ledger.lost();
      await control.send({ type: 'period', latency: summarizeLatency(period.latencies), lost });
    }
    return { disconnected: crowd.closedCount() };
  } finally {
    crowd.close();
  }
}
