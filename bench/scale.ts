/**
 * The scale scenario, load-process side: thousands of idle logged-in clients,
 * and a hundred active ones whose chat latency is measured with and without
 * the idle thousands in the room.
 *
 * Two kinds of load process take part (the parent side, scale-bench.ts,
 * starts one of the first kind and several of the second):
 *
 * - **Active** ({@link runActive}): `clients` clients join first, then chat at
 *   a steady, low rate, the same with or without the crowd: `rate` messages per
 *   second from all of them together, the clients taking turns. Each
 *   `measure` command runs one period (a warm-up, then the measured seconds)
 *   and answers with the latency every other active client saw. The rate is
 *   an open loop on purpose: a closed loop (send when the last one arrived)
 *   would slow down with the server and hide the latency it is meant to show.
 * - **Idle** ({@link runIdleCrowd}): `count` clients connect (stage 6: register
 *   and log in), report `ready`, and then only read until `release`. They are
 *   the target's cheapest client (see {@link Target.openIdleClient}): they
 *   still receive every chat message and every join, since they are in the room.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Crowd } from './crowd';
import type { ScenarioControl } from './load-channel';
import { encodePayload, nowUs, parsePayload, type Payload } from './payload';
import type { RunFiles } from './run-files';
import { Reservoir, summarizeLatency } from './stats';
import type { LoadClient, LoadEndpoint } from './load-client';
import type { Target } from './targets';

/** One idle crowd. */
export interface ScaleIdleJob {
  /** Index of the first client: usernames stay unique across load processes. */
  first: number;
  /** How many clients this process holds. */
  count: number;
  /** Connection attempts (and logins) in flight at once. */
  batch: number;
}

/** What an idle crowd reports when released. */
export interface ScaleIdleResult {
  /** Clients connected and admitted. */
  opened: number;
  /** Clients the server closed meanwhile (should be 0). */
  disconnected: number;
  /** Seconds from the first connection attempt to the last admission. */
  connectSeconds: number;
  /** Why the crowd stopped short of `count`, if it did (the first failure). */
  firstError: string | null;
}

/** The active clients' chat. */
export interface ActiveJob {
  /** How many clients chat. */
  clients: number;
  /** Messages per second, all active clients together. */
  messagesPerSecond: number;
  /** Size of each message's text, in bytes. */
  payloadBytes: number;
  /** Unmeasured seconds of chat at the start of each period. */
  warmupSeconds: number;
  /** Measured seconds per period. */
  seconds: number;
}

/** What the active clients report when released. */
export interface ActiveResult {
  /** Active clients the server closed during the scenario (should be 0). */
  disconnected: number;
}

/**
 * Opens an idle crowd, reports `ready`, holds it until `release`. A client the
 * server refuses stops the opening (and is reported), but not the scenario:
 * "the server held 6,000 of 10,000, then refused with …" is a result too.
 *
 * @param target - the server's protocol
 * @param endpoint - where it listens
 * @param job - which clients, how many at a time
 * @param files - the run's files (the room key)
 * @param control - the parent
 */
export async function runIdleCrowd(
  target: Target,
  endpoint: LoadEndpoint,
  job: ScaleIdleJob,
  files: RunFiles,
  control: ScenarioControl,
): Promise<ScaleIdleResult> {
  const open =
    target.openIdleClient?.bind(target) ??
    ((e: LoadEndpoint, context: { files: RunFiles; index: number }) =>
      target.openClient(e, { onPayload: () => {} }, context));
  const clients: LoadClient[] = [];
  const started = performance.now();
  let firstError: string | null = null;
  try {
    for (let done = 0; done < job.count && firstError === null; done += job.batch) {
      const size = Math.min(job.batch, job.count - done);
      const opened = await Promise.allSettled(
        Array.from({ length: size }, (_, i) =>
          open(endpoint, { files, index: job.first + done + i }),
        ),
      );
      for (const result of opened) {
        if (result.status === 'fulfilled') clients.push(result.value);
        else firstError ??= errorText(result.reason);
      }
    }
    const connectSeconds = (performance.now() - started) / 1000;
    await control.send({ type: 'ready' });
    while ((await control.next()).type !== 'release');
    return {
      opened: clients.length,
      disconnected: clients.filter((c) => c.closed).length,
      connectSeconds,
      firstError,
    };
  } finally {
    for (const client of clients) client.close();
  }
}

function errorText(reason: unknown): string {
  if (reason instanceof Error) {
    const code = (reason as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${reason.message}` : reason.message;
  }
  return String(reason);
}

/**
 * Opens the active clients, reports `ready`, then runs one chat period per
 * `measure` (answered with a `period` event) until `release`.
 *
 * @param target - the server's protocol
 * @param endpoint - where it listens
 * @param job - the chat's shape
 * @param files - the run's files (the room key)
 * @param control - the parent
 */
export async function runActive(
  target: Target,
  endpoint: LoadEndpoint,
  job: ActiveJob,
  files: RunFiles,
  control: ScenarioControl,
): Promise<ActiveResult> {
  const parsed: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
  const sent: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
  let period = { from: Infinity, to: Infinity, latencies: new Reservoir(1) };
  let received = 0;
  const onPayload = (_receiver: number, payload: string, receivedAtUs: number) => {
    if (!parsePayload(payload, parsed)) return;
    if (parsed.sentAtUs < period.from || parsed.sentAtUs >= period.to) return;
    period.latencies.add((receivedAtUs - parsed.sentAtUs) / 1000);
    received++;
  };
  const crowd = await Crowd.open(target, endpoint, job.clients, onPayload, files);
  try {
    await crowd.sync();
    await control.send({ type: 'ready' });
    let seq = 0;
    for (let command = await control.next(); command.type === 'measure';) {
      period = { from: Infinity, to: Infinity, latencies: new Reservoir() };
      received = 0;
      let expected = 0;
      // The clients take turns: one message every 1/rate seconds from the next one.
      let turn = 0;
      const timer = setInterval(() => {
        const sender = turn++ % job.clients;
        const payload = encodePayload(sender, ++seq, job.payloadBytes);
        parsePayload(payload, sent); // its send time decides whether it is measured
        if (sent.sentAtUs >= period.from && sent.sentAtUs < period.to) {
          expected += job.clients - 1;
        }
        crowd.clients[sender]!.send(payload);
      }, 1000 / job.messagesPerSecond);
      await sleep(job.warmupSeconds * 1000);
      period.from = nowUs();
      await sleep(job.seconds * 1000);
      period.to = nowUs();
      clearInterval(timer);
      // Let the last measured messages arrive: they carry the latest latencies.
      for (let waited = 0; received < expected && waited < 5_000; waited += 20) await sleep(20);
      await control.send({
        type: 'period',
        latency: summarizeLatency(period.latencies),
        lost: expected - received,
      });
      command = await control.next();
    }
    return { disconnected: crowd.closedCount() };
  } finally {
    crowd.close();
  }
}
