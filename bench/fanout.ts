/**
 * The fan-out and idle scenarios (bench/README.md), both sides: what runs in
 * the load process (`runFanout`, `runIdle`) and what the parent measures of
 * the server meanwhile (`measureFanout`, `measureIdle`).
 *
 * A fan-out message stops being in flight only when every other client has
 * received it (a closed loop), so the server is never fed faster than it
 * delivers: the benchmark measures its steady delivery rate, not how large a
 * backlog it can queue. Idle clients keep reading, so notices never pile up
 * in the server's queues.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Crowd } from './crowd';
import { LoadSession, type LoadRequest, type ScenarioControl } from './load-control';
import type { BenchOptions } from './options';
import { drain, encodePayload, parsePayload, type Payload } from './payload';
import type { RunFiles } from './run-files';
import {
  cpuMeter,
  perConnection,
  settledMemory,
  withServer,
  type PerConnection,
  type SettledMemory,
} from './server-process';
import { percentile, Reservoir } from './stats';
import type { LoadEndpoint, Target } from './target';

/** How often a paced fan-out sends what it owes, ms. */
const PACE_TICK_MS = 5;

/** What a fan-out's load process reads of the options, and its pace (0: a closed loop). */
type FanoutJob = Pick<
  BenchOptions,
  'clients' | 'senders' | 'window' | 'seconds' | 'warmupSeconds' | 'payloadBytes'
> & { rate: number };

/** What one fan-out measurement found, in the load process. */
export interface FanoutResult {
  /** Messages received by all clients together in the measured period, per second. */
  deliveredPerSecond: number;
  /** Messages sent by all senders together in the measured period, per second. */
  sentPerSecond: number;
  /** The pace asked for, msg/s (0: a closed loop, as fast as messages are delivered). */
  pace: number;
  /** End-to-end latency percentiles, ms. */
  p50Ms: number;
  /** See {@link FanoutResult.p50Ms}. */
  p90Ms: number;
  /** See {@link FanoutResult.p50Ms}. */
  p99Ms: number;
  /** Deliveries still missing when the drain deadline passed (should be 0). */
  lost: number;
  /** Clients the server disconnected (should be 0). */
  disconnected: number;
  /** CPU the load process used in the measured period, percent of one core. */
  loadCpuPercent: number;
}

/** A fan-out result plus what the parent saw of the server meanwhile. */
export interface FanoutMeasurement extends FanoutResult {
  /** The server's CPU in the measured period (all threads, from /proc), percent of one core. */
  serverCpuPercent: number;
  /** Server CPU µs per delivered message: the figure that judges a server. NaN when impossible. */
  serverCpuUsPerMessage: number;
}

/** What the idle measurement found. */
export interface IdleMeasurement extends PerConnection {
  /** Connections held open while measuring. */
  connections: number;
  /** Connections the server dropped meanwhile (should be 0). */
  disconnected: number;
}

/**
 * Server CPU time per delivered message, in µs: CPU seconds per second over
 * messages per second, both over the measured period. The steadiest figure
 * on a shared machine: when other processes steal the CPU, throughput drops
 * but this barely moves. NaN when impossible (zero, negative, not a number).
 */
export function cpuMicrosPerMessage(serverCpuPercent: number, deliveredPerSecond: number): number {
  const us = (serverCpuPercent / 100 / deliveredPerSecond) * 1e6;
  return Number.isFinite(us) && us > 0 ? us : NaN;
}

/**
 * Runs one fan-out's load process against a server (or a cluster's nodes)
 * already listening; `onMark` hears the measured period's start and end.
 * With a `pace`, one sender sends that many messages per second instead.
 */
export function fanoutLoad(
  target: string,
  endpoint: LoadEndpoint,
  options: BenchOptions,
  files: RunFiles,
  onMark: (phase: 'start' | 'end') => void,
  pace = 0,
): Promise<FanoutResult> {
  // Paced, a second's messages may be in flight: the window only stops a
  // backlog from growing in a server that cannot keep up.
  const job: FanoutJob =
    pace > 0
      ? {
          ...options,
          senders: 1,
          window: Math.max(options.window, Math.ceil(pace)),
          rate: pace,
          warmupSeconds: options.pacedWarmupSeconds,
        }
      : { ...options, rate: 0 };
  const timeoutMs = (job.warmupSeconds + job.seconds) * 1000 + 120_000;
  const request: LoadRequest = { type: 'fanout', target, endpoint, files, job };
  return new LoadSession<FanoutResult>(request, timeoutMs, onMark).result;
}

/**
 * One fan-out on a fresh server of `target`: a closed loop, or with a `pace`
 * one sender at that many msg/s.
 *
 * Why paced as well: in the closed loop the load process saturates its core
 * and the server idles most of the time, so how many messages each of the
 * server's reads carries (and so its CPU per message) moves with the load
 * process's speed, from run to run and target to target. One sender at a
 * fixed rate gives every server the same reads: CPU per message then
 * compares their code, not their batching.
 */
export function measureFanout(
  target: Target,
  options: BenchOptions,
  files: RunFiles,
  pace = 0,
): Promise<FanoutMeasurement> {
  return withServer(target, target.serverArgs?.(files), async (server) => {
    const cpu = cpuMeter(server);
    const result = await fanoutLoad(target.name, server.endpoint, options, files, cpu.mark, pace);
    return {
      ...result,
      serverCpuPercent: cpu.percent,
      serverCpuUsPerMessage: cpuMicrosPerMessage(cpu.percent, result.deliveredPerSecond),
    };
  });
}

/** The server's memory before and with `count` idle clients, on a fresh server of `target`. */
export function measureIdle(
  target: Target,
  count: number,
  files: RunFiles,
): Promise<IdleMeasurement> {
  return withServer(target, target.serverArgs?.(files), async (server) => {
    const before = await settledMemory(server);
    const job = { count };
    const request: LoadRequest = {
      type: 'idle',
      target: target.name,
      endpoint: server.endpoint,
      files,
      job,
    };
    const session = new LoadSession<{ opened: number; disconnected: number }>(request, 180_000);
    let after: SettledMemory;
    try {
      await session.next('ready');
      after = await settledMemory(server);
    } finally {
      session.send({ type: 'release' });
    }
    const result = await session.result;
    return {
      connections: result.opened,
      disconnected: result.disconnected,
      ...perConnection(before, after, result.opened),
    };
  });
}

/** Load process: opens the idle clients, holds them until `release`. */
export async function runIdle(request: LoadRequest, control: ScenarioControl) {
  const { count } = request.job as { count: number };
  const crowd = await Crowd.open(request, count, () => {});
  try {
    await control.hold();
    return { opened: crowd.clients.length, disconnected: crowd.closedCount() };
  } finally {
    crowd.close();
  }
}

/** Load process: one fan-out measurement against a server that is already listening. */
export async function runFanout(
  request: LoadRequest,
  control: ScenarioControl,
): Promise<FanoutResult> {
  const job = request.job as FanoutJob;
  const windows = Array.from(
    { length: job.senders },
    () => new SendWindow(job.window, job.clients - 1),
  );
  const latencies = new Reservoir();
  const parsed: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
  let sending = false;
  let recording = false;
  let delivered = 0;
  let sent = 0;

  const sendOne = (index: number) => {
    crowd.clients[index]!.send(encodePayload(index, windows[index]!.open(), job.payloadBytes));
    if (recording) sent++;
  };
  // Closed loop: a sender sends whenever its window has room.
  const pump = (index: number) => {
    const window = windows[index]!;
    while (sending && job.rate === 0 && window.canSend) sendOne(index);
  };
  // Paced (one sender): a tick every few ms sends what is owed by now; a
  // message owed while the window is full is skipped (the server is
  // behind), so no backlog builds up in the load process.
  let owed = 0;
  let lastTick = 0;
  const pace = () => {
    if (!sending) return;
    const now = performance.now();
    owed = Math.min(owed + (job.rate * (now - lastTick)) / 1000, job.rate);
    lastTick = now;
    for (; owed >= 1; owed--) if (windows[0]!.canSend) sendOne(0);
  };
  let ticker: NodeJS.Timeout | undefined;
  const onPayload = (_receiver: number, payload: string, receivedAtUs: number) => {
    if (!parsePayload(payload, parsed)) return; // not one of ours
    const window = windows[parsed.sender];
    if (window === undefined) return;
    if (recording) {
      delivered++;
      latencies.add((receivedAtUs - parsed.sentAtUs) / 1000);
    }
    if (window.receive(parsed.seq)) pump(parsed.sender);
  };

  const crowd = await Crowd.open(request, job.clients, onPayload);
  try {
    sending = true;
    lastTick = performance.now();
    if (job.rate > 0) ticker = setInterval(pace, PACE_TICK_MS);
    for (let i = 0; i < job.senders; i++) pump(i);
    await sleep(job.warmupSeconds * 1000);

    control.mark('start');
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    recording = true;
    await sleep(job.seconds * 1000);
    recording = false;
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    control.mark('end');

    sending = false;
    const missing = () => windows.reduce((sum, w) => sum + w.outstanding(), 0);
    await drain(() => missing() === 0);
    const sorted = latencies.sorted();
    return {
      deliveredPerSecond: delivered / (elapsedMs / 1000),
      sentPerSecond: sent / (elapsedMs / 1000),
      pace: job.rate,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      lost: missing(),
      disconnected: crowd.closedCount(),
      loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    };
  } finally {
    clearInterval(ticker);
    crowd.close();
  }
}

/**
 * One sender's window: per message in flight, the recipients that have not
 * received it yet. Messages complete in order (TCP keeps order, and a chat
 * server relays in order, so message N cannot be everywhere before N - 1),
 * which is why a ring of counters indexed by `seq % size` is enough, with no
 * map lookups on the hot path.
 */
export class SendWindow {
  private readonly missing: Int32Array;
  private oldest = 1; // the oldest sequence number still in flight
  private next = 1; // the sequence number the next message will get

  /**
   * @param size - the most messages in flight
   * @param recipients - how many clients receive each message
   */
  constructor(
    readonly size: number,
    private readonly recipients: number,
  ) {
    this.missing = new Int32Array(size);
  }

  /** True if another message may be sent now. */
  get canSend(): boolean {
    return this.next - this.oldest < this.size;
  }

  /** Records a message as sent and returns its sequence number. */
  open(): number {
    const seq = this.next++;
    this.missing[seq % this.size] = this.recipients;
    return seq;
  }

  /** Records one receipt of message `seq`; true if that freed room in the window. */
  receive(seq: number): boolean {
    if (seq < this.oldest || seq >= this.next) return false; // a duplicate or a stranger
    const slot = seq % this.size;
    if (this.missing[slot]! > 0) this.missing[slot] = this.missing[slot]! - 1;
    let freed = false;
    while (this.oldest < this.next && this.missing[this.oldest % this.size] === 0) {
      this.oldest++;
      freed = true;
    }
    return freed;
  }

  /** Receipts still missing over all messages in flight. */
  outstanding(): number {
    let sum = 0;
    for (let seq = this.oldest; seq < this.next; seq++) sum += this.missing[seq % this.size]!;
    return sum;
  }
}
