/**
 * The scale scenario, parent side: can a server hold 10,000 logged-in users,
 * what does each cost it in memory, and does their mere presence slow down
 * the ones who talk?
 *
 * One round, for one target (the raw baseline, then stage 6, each on a fresh
 * server):
 *
 * 1. `active` clients (default 100) join and chat at a low, steady rate; their
 *    latency is measured with nobody else connected ("quiet").
 * 2. The server's memory is read after full GCs (the active clients still
 *    connected, silent).
 * 3. `scale` idle clients (default 10,000) connect, spread over several load
 *    processes, and stage 6's log in (registering at bcrypt cost 4: this
 *    scenario measures holding users, not hashing them; 10,000 hashes at the
 *    real cost 12 would take most of an hour).
 * 4. The memory is read again: the growth divided by the idle clients is the
 *    memory per connection, compared with the raw broadcaster's in the same run.
 * 5. The same active clients chat again at the same rate ("crowded"). Every
 *    message now goes to all 10,100 members of the one room, so this measures
 *    what the crowd costs the conversation: p99 crowded / p99 quiet.
 * 6. The server is killed (SIGKILL), not stopped: a polite shutdown would
 *    announce every departure to everyone still there: n²/2 frames that
 *    measure nothing.
 *
 * The server and every load process start with their open-file limit raised
 * to the hard limit (open-files.ts), and the limit each got is recorded.
 *
 * @module
 */
import { LoadSession, type LoadRequest } from './load-control';
import type { BenchOptions } from './options';
import type { RunFiles } from './run-files';
import type { ActiveResult, ScaleIdleResult } from './scale';
import { fileLimits } from './open-files';
import {
  cpuMeter,
  launchServer,
  perConnection,
  settledMemory,
  type PerConnection,
  type ServerProcess,
} from './server-process';
import type { LatencySummary } from './stats';
import type { Target } from './targets';

/** The goal: stage 6's memory per connection at most this multiple of the raw broadcaster's. */
export const MAX_SCALE_MEMORY_RATIO = 2.5;
/** The goal: the active clients' chat p99 with the crowd at most this multiple of without. */
export const MAX_SCALE_P99_RATIO = 2;
/** Idle clients one load process holds at most; more are spread over more processes. */
export const IDLE_PER_PROCESS = 5000;
/** Connection attempts (and logins) each idle load process keeps in flight. */
const IDLE_BATCH = 50;

/** The active clients' chat during one period, with the server's CPU meanwhile. */
export interface ChatPeriod extends LatencySummary {
  /** Deliveries of measured messages that never arrived (should be 0). */
  lost: number;
  /** Server CPU during the period, in percent of one core. */
  serverCpuPercent: number;
}

/** One round of the scale scenario for one target (memory: per idle connection, the active clients in the baseline). */
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
  /** Server CPU time spent meanwhile (all threads), in seconds. */
  connectCpuSeconds: number;
  /** The active clients' chat with nobody else connected. */
  quiet: ChatPeriod;
  /** The same chat with the idle clients connected. */
  crowded: ChatPeriod;
  /** crowded p99 / quiet p99. */
  p99Ratio: number;
  /** The server's soft open-file limit, as started (null if unknown). */
  serverOpenFiles: number | null;
  /** The load processes' soft open-file limit, as started (null if unknown). */
  loadOpenFiles: number | null;
}

/**
 * How many load processes hold `count` idle clients.
 *
 * @param count - idle clients in all
 */
export function idleProcesses(count: number): number {
  return Math.max(1, Math.ceil(count / IDLE_PER_PROCESS));
}

/**
 * Runs one round of the scale scenario against a fresh server of `target`.
 *
 * @param target - the raw baseline or stage 6
 * @param options - `scale`, `active`, `activeRate`, `scaleSeconds`, `payloadBytes`
 * @param files - the run's files
 * @param round - the round number
 * @param log - receives a line when the idle clients are all connected
 */
export async function measureScale(
  target: Target,
  options: BenchOptions,
  files: RunFiles,
  round: number,
  log: (line: string) => void = () => {},
): Promise<ScaleMeasurement> {
  const server = await launchServer(target, target.serverArgs?.(files));
  const sessions: LoadSession[] = [];
  const start = (request: LoadRequest, timeoutMs: number) => {
    const session = new LoadSession(request, timeoutMs);
    sessions.push(session);
    return session;
  };
  const { endpoint } = server;
  try {
    const job = {
      clients: options.active,
      messagesPerSecond: options.activeRate,
      payloadBytes: options.payloadBytes,
      warmupSeconds: 1,
      seconds: options.scaleSeconds,
    };
    // Generous: logging 10,000 users in is quadratic in stage 6 (see the module comment).
    const timeoutMs = 1_800_000;
    const active = start(
      { type: 'scale-active', target: target.name, endpoint, files, job },
      timeoutMs,
    );
    await active.next('ready');
    const loadOpenFiles = active.pid === undefined ? null : fileLimits(active.pid).soft;
    const quiet = await chatPeriod(active, server);
    const before = await settledMemory(server);

    const processes = idleProcesses(options.scale);
    const idle = Array.from({ length: processes }, (_, p) => {
      const first = Math.floor((options.scale * p) / processes);
      const count = Math.floor((options.scale * (p + 1)) / processes) - first;
      const idleJob = { first, count, batch: IDLE_BATCH };
      return start(
        { type: 'scale-idle', target: target.name, endpoint, files, job: idleJob },
        timeoutMs,
      );
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
    const idleResults = (await Promise.all(idle.map((s) => s.result))) as ScaleIdleResult[];
    const activeResult = (await active.result) as ActiveResult;
    const opened = idleResults.reduce((sum, r) => sum + r.opened, 0);
    return {
      target: target.name,
      round,
      requested: options.scale,
      opened,
      disconnected:
        idleResults.reduce((sum, r) => sum + r.disconnected, 0) + activeResult.disconnected,
      firstError: idleResults.find((r) => r.firstError !== null)?.firstError ?? null,
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
  } finally {
    await server.kill();
    for (const s of sessions) s.kill();
  }
}

/** Runs one measured chat period on the active clients, metering the server's CPU. */
async function chatPeriod(active: LoadSession, server: ServerProcess): Promise<ChatPeriod> {
  const cpu = cpuMeter(server);
  cpu.mark('start');
  active.send({ type: 'measure' });
  const { latency, lost } = await active.next('period');
  cpu.mark('end');
  return { ...latency, lost, serverCpuPercent: cpu.percent };
}
