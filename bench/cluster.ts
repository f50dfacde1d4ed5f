/**
 * The cluster scenario: the fan-out across 1, 2 and 3 stage 9 nodes joined
 * through the machine's Redis, next to one node alone on its in-process
 * bus. The load clients are spread over the nodes (client `i` on node
 * `i % n`), so a message usually reaches most of its receivers through Redis.
 *
 * Per configuration it reports delivered msg/s and p50/p99 like the fan-out,
 * the server CPU per delivered message **summed over the nodes**, and Redis's
 * own CPU (from `INFO cpu` before and after the measured seconds) per
 * message sent. The latency the Redis hop adds is "1 node via Redis" minus
 * "1 node alone": the same server code, with and without Redis in between.
 *
 * Redis is shared: its CPU counts every client of that Redis server during
 * the measured seconds, not only this run's nodes, so it is an upper bound.
 * Each run uses a key prefix of its own and deletes its keys afterwards. If
 * Redis cannot be reached, the scenario is skipped with the reason, and the
 * report says "inconclusive", never "met".
 *
 * @module
 */
import { Redis } from 'ioredis';
import { cpuMicrosPerMessage, fanoutJob, fanoutTimeoutMs, type FanoutResult } from './fanout';
import { loadMarked } from './load-control';
import type { BenchOptions } from './options';
import { runFile, type RunFiles } from './run-files';
import { cpuMeter, launchServer, type ServerProcess } from './server-process';
import { stage9NodeArgs, targetNamed } from './targets';
import { connectRedis, deleteKeysUnder } from '../testkit/redis';

/** One cluster layout: how many nodes, and whether they share the room through Redis. */
export interface ClusterLayout {
  /** Nodes, each its own server process. */
  nodes: number;
  /** True: through Redis. False: one node on its in-process bus (no Redis at all). */
  redis: boolean;
}

/** The layouts measured, in order: the alone node is the reference for the Redis hop. */
export const CLUSTER_LAYOUTS: readonly ClusterLayout[] = [
  { nodes: 1, redis: false },
  { nodes: 1, redis: true },
  { nodes: 2, redis: true },
  { nodes: 3, redis: true },
];

/** One layout's fan-out in one round. */
export interface ClusterMeasurement extends FanoutResult, ClusterLayout {
  /** 1-based round number. */
  round: number;
  /** All nodes' CPU together during the measured period, percent of one core. */
  serverCpuPercent: number;
  /** All nodes' CPU time per delivered message, µs (NaN when impossible). */
  serverCpuUsPerMessage: number;
  /** Redis's CPU time per message sent, µs (NaN alone, or when impossible). */
  redisCpuUsPerMessage: number;
}

/** Redis's CPU seconds so far (`used_cpu_sys` + `used_cpu_user` of `INFO cpu`). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** Connects to the benchmark's Redis, or returns why it cannot. */
async function connectBenchRedis(url: string): Promise<Redis | string> {
  const redis = await connectRedis(url);
  return typeof redis === 'string' ? `Redis at ${url} cannot be reached (${redis})` : redis;
}

let clusterSerial = 0;

/**
 * The cluster scenario's rounds, every layout in each, the order reversed
 * every other round. A Redis out of reach skips it: `clusterSkipped` says why.
 */
export async function runCluster(
  options: BenchOptions,
  files: RunFiles,
  result: { cluster: ClusterMeasurement[]; clusterSkipped: string | null },
  progress: (line: string) => void,
): Promise<void> {
  const redis = await connectBenchRedis(options.redisUrl);
  if (typeof redis === 'string') {
    result.clusterSkipped = redis;
    progress(`cluster: skipped: ${redis}`);
    return;
  }
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? CLUSTER_LAYOUTS : [...CLUSTER_LAYOUTS].reverse();
      for (const layout of order) {
        const m = await measureLayout(layout, options, files, round, redis);
        progress(
          `round ${round} stage9 cluster, ${m.nodes} node(s) ${m.redis ? 'via Redis' : 'alone'}: ` +
            `${Math.round(m.deliveredPerSecond)} msg/s, p50 ${m.p50Ms.toFixed(2)} ms, ` +
            `p99 ${m.p99Ms.toFixed(2)} ms, nodes ${m.serverCpuUsPerMessage.toFixed(2)} µs/msg, ` +
            (m.redis ? `Redis ${m.redisCpuUsPerMessage.toFixed(2)} µs/msg sent` : 'no Redis'),
        );
        result.cluster.push(m);
      }
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Measures one layout once: starts its nodes (the first alone, so it makes
 * the shared certificate; then the others), runs a fan-out with the clients
 * spread over them, and stops them.
 */
async function measureLayout(
  layout: ClusterLayout,
  options: BenchOptions,
  files: RunFiles,
  round: number,
  redis: Redis,
): Promise<ClusterMeasurement> {
  const stage9 = targetNamed('stage9');
  const prefix = `chat-bench-${process.pid}-${++clusterSerial}:`;
  const args = stage9NodeArgs(files, runFile(files, 'stage9-cluster', '.sqlite'));
  const bus = layout.redis ? ['--redis-url', options.redisUrl, '--redis-prefix', prefix] : [];
  // No CHAT_REDIS_URL from the environment: "alone" must really be alone.
  const env = { CHAT_REDIS_URL: undefined, CHAT_REDIS_PREFIX: undefined };
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < layout.nodes; i++) {
      nodes.push(await launchServer(stage9, [...args, ...bus, '--node-id', `bench${i}`], env));
    }
    const meters = nodes.map(cpuMeter);
    const ports = nodes.map((n) => n.endpoint.port);
    let redisAtStart: Promise<number> = Promise.resolve(NaN);
    let redisAtEnd: Promise<number> = Promise.resolve(NaN);
    const job = fanoutJob(options);
    let startedAt = 0;
    let seconds = NaN;
    const endpoint = { host: nodes[0]!.endpoint.host, port: ports[0]!, ports };
    const result = await loadMarked<FanoutResult>(
      { type: 'fanout', target: stage9.name, endpoint, files, job },
      (phase) => {
        for (const meter of meters) meter.mark(phase);
        if (phase === 'start') startedAt = performance.now();
        else seconds = (performance.now() - startedAt) / 1000;
        if (layout.redis) {
          const reading = redisCpuSeconds(redis).catch(() => NaN);
          if (phase === 'start') redisAtStart = reading;
          else redisAtEnd = reading;
        }
      },
      fanoutTimeoutMs(job),
    );
    const serverCpuPercent = meters.reduce((sum, m) => sum + m.percent, 0);
    const redisCpuSecondsUsed = (await redisAtEnd) - (await redisAtStart);
    return {
      ...layout,
      ...result,
      round,
      serverCpuPercent,
      serverCpuUsPerMessage: cpuMicrosPerMessage(serverCpuPercent, result.deliveredPerSecond),
      redisCpuUsPerMessage: cpuMicrosPerMessage(
        (redisCpuSecondsUsed / seconds) * 100,
        result.sentPerSecond,
      ),
    };
  } finally {
    for (const node of nodes) await node.stop();
    if (layout.redis) await deleteKeysUnder(redis, prefix).catch(() => {});
  }
}
