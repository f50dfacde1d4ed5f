/**
 * The fan-out scenario, run inside the load process: N clients in one room,
 * S of them sending, every message delivered to the N - 1 others.
 *
 * Each sender keeps at most `window` messages in flight. A message stops being
 * in flight when every other client has received it, so the server is never
 * fed faster than it delivers: the benchmark measures its steady delivery
 * rate, not how large a backlog it can queue. The payload carries the sender,
 * a sequence number and the send time from `performance.now()` (a monotonic
 * clock, shared by all clients because they live in this one process), so
 * each receiver computes the end-to-end latency itself.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Crowd } from './crowd';
import { encodePayload, parsePayload, type Payload } from './payload';
import { SendWindow } from './send-window';
import type { RunFiles } from './run-files';
import { percentile, Reservoir } from './stats';
import type { LoadEndpoint } from './load-client';
import type { Target } from './targets';

/** The parameters of one fan-out measurement. */
export interface FanoutJob {
  /** Clients in the room (at least 2). */
  clients: number;
  /** How many of them send (at least 1, at most `clients`). */
  senders: number;
  /** Messages each sender may have in flight. */
  window: number;
  /** Length of the measured period. */
  seconds: number;
  /** Sending before the measured period starts, so the JIT and buffers settle. */
  warmupSeconds: number;
  /** Size of each message's text, in bytes. */
  payloadBytes: number;
}

/** What one fan-out measurement found. */
export interface FanoutResult {
  /** Messages received by all clients together during the measured period, per second. */
  deliveredPerSecond: number;
  /** Messages sent by all senders together during the measured period, per second. */
  sentPerSecond: number;
  /** Median end-to-end latency in milliseconds. */
  p50Ms: number;
  /** 90th percentile end-to-end latency in milliseconds. */
  p90Ms: number;
  /** 99th percentile end-to-end latency in milliseconds. */
  p99Ms: number;
  /** Deliveries still missing when the drain deadline passed (should be 0). */
  lost: number;
  /** Clients the server disconnected during the run (should be 0). */
  disconnected: number;
  /** CPU the load process used during the measured period, in percent of one core. */
  loadCpuPercent: number;
}

/**
 * Runs one fan-out measurement against a server that is already listening.
 *
 * @param target - the server's protocol
 * @param endpoint - where it listens
 * @param job - the load's shape
 * @param files - the run's files (the room key)
 * @param mark - called at the start and end of the measured period (the
 *   parent process samples the server's CPU time then)
 * @returns the measurement
 */
export async function runFanout(
  target: Target,
  endpoint: LoadEndpoint,
  job: FanoutJob,
  files: RunFiles,
  mark: (phase: 'start' | 'end') => void,
): Promise<FanoutResult> {
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

  const pump = (index: number) => {
    const window = windows[index]!;
    while (sending && window.canSend) {
      crowd.clients[index]!.send(encodePayload(index, window.open(), job.payloadBytes));
      if (recording) sent++;
    }
  };

  const onPayload = (_receiver: number, payload: string, receivedAtUs: number) => {
    if (!parsePayload(payload, parsed)) return; // not one of ours: ignore
    const window = windows[parsed.sender];
    if (window === undefined) return;
    if (recording) {
      delivered++;
      latencies.add((receivedAtUs - parsed.sentAtUs) / 1000);
    }
    if (window.receive(parsed.seq)) pump(parsed.sender);
  };

  const crowd = await Crowd.open(target, endpoint, job.clients, onPayload, files);
  try {
    await crowd.sync();
    sending = true;
    for (let i = 0; i < job.senders; i++) pump(i);
    await sleep(job.warmupSeconds * 1000);

    mark('start');
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    recording = true;
    await sleep(job.seconds * 1000);
    recording = false;
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    mark('end');

    sending = false;
    const lost = await drain(windows, 5_000);
    const sorted = latencies.sorted();
    return {
      deliveredPerSecond: delivered / (elapsedMs / 1000),
      sentPerSecond: sent / (elapsedMs / 1000),
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      lost,
      disconnected: crowd.closedCount(),
      loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    };
  } finally {
    crowd.close();
  }
}

/** Waits until no message is in flight, or the deadline; returns the receipts still missing. */
async function drain(windows: SendWindow[], timeoutMs: number): Promise<number> {
  const missing = () => windows.reduce((sum, w) => sum + w.outstanding(), 0);
  const deadline = Date.now() + timeoutMs;
  while (missing() > 0 && Date.now() < deadline) await sleep(20);
  return missing();
}
