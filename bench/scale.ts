/**
 * The scale scenario (see bench/README.md). One round, for one target (raw,
 * then stage 6, each fresh):
 *
 * 1. `active` clients chat at a low, steady rate: an open loop on purpose,
 *    as a closed one would slow down with the server and hide the latency
 *    it is meant to show. Their latency with nobody else there is "quiet".
 * 2. `scale` idle clients connect (stage 6's register and log in at bcrypt
 *    cost 4: this measures holding users, not hashing them), spread over
 *    load processes of at most `IDLE_PER_PROCESS`. They are still in the
 *    room: they receive every message and every join.
 * 3. The memory growth over them, read after full GCs, is the memory per
 *    connection; the active clients chat again ("crowded").
 * 4. The server is killed, not stopped: a polite shutdown would announce
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

/** What the active clients' load process reads of the options. */
type ActiveJob = Pick<BenchOptions, 'active' | 'activeRate' | 'payloadBytes' | 'scaleSeconds'>;

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
    const start = <R>(type: LoadRequest['type'], job: object) => {
      const request = { type, target: target.name, endpoint: server.endpoint, files, job };
      // Generous: logging 10,000 users in is quadratic in stage 6 (joins announced to all).
      const session = new LoadSession<R>(request, 1_800_000);
      sessions.push(session);
      return session;
    };
    const active = start<{ disconnected: number }>('scale-active', options satisfies ActiveJob);
    await active.next('ready');
    const loadOpenFiles = active.pid === undefined ? null : fileLimits(active.pid).soft;
    const quiet = await chatPeriod(active, server);
    const before = await settledMemory(server);

    const processes = Math.max(1, Math.ceil(options.scale / IDLE_PER_PROCESS));
    const idle = Array.from({ length: processes }, (_, p) => {
      const first = Math.floor((options.scale * p) / processes);
      const count = Math.floor((options.scale * (p + 1)) / processes) - first;
      return start<IdleCrowdResult>('scale-idle', { first, count });
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
    const crowds = await Promise.all(idle.map((s) => s.result));
    const opened = crowds.reduce((sum, r) => sum + r.opened, 0);
    return {
      target: target.name,
      round,
      requested: options.scale,
      opened,
      disconnected: crowds.reduce(
        (sum, r) => sum + r.disconnected,
        (await active.result).disconnected,
      ),
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
  const clients = job.active;
  let period = { from: Infinity, to: Infinity, latencies: new Reservoir() };
  const inPeriod = (sentAtUs: number) =>
    sentAtUs >= period.from && sentAtUs < period.to ? period.latencies : null;
  let ledger = new ChatLedger(clients - 1, inPeriod);
  const crowd = await Crowd.open(request, clients, (_receiver, payload, receivedAtUs) =>
    ledger.receive(payload, receivedAtUs),
  );
  try {
    await control.send({ type: 'ready' });
    let seq = 0;
    while ((await control.next()).type === 'measure') {
      period = { from: Infinity, to: Infinity, latencies: new Reservoir() };
      ledger = new ChatLedger(clients - 1, inPeriod);
      let turn = 0;
      const timer = setInterval(() => {
        const sender = turn++ % clients;
        const payload = encodePayload(sender, ++seq, job.payloadBytes);
        ledger.sent(payload);
        crowd.clients[sender]!.send(payload);
      }, 1000 / job.activeRate);
      await sleep(1000); // warm-up
      period.from = nowUs();
      await sleep(job.scaleSeconds * 1000);
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
