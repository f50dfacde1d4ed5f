/**
 * The cluster scenario: the fan-out across 1, 2 and 3 stage 9 nodes joined
 * through the machine's Redis, next to one node alone on its in-process bus
 * (see bench/README.md for the figures). Client `i` uses node `i % n`, so a
 * message usually reaches most of its receivers through Redis. Each run uses
 * a key prefix of its own and deletes its keys afterwards; an unreachable
 * Redis skips the scenario, with the reason.
 *
 * @module
 */
import { Redis } from 'ioredis';
import { cpuMicrosPerMessage, fanoutLoad, type FanoutResult } from './fanout';
import type { BenchOptions } from './options';
import { runDatabase, type RunFiles } from './run-files';
import { cpuMeter, launchServer, type ServerProcess } from './server-process';
import { tlsServerArgs } from './clients';
import { targetNamed } from './targets';
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

/** Redis's CPU seconds so far (`used_cpu_sys` + `used_cpu_user` of `INFO cpu`); NaN if unknown. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu').catch(() => '');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_sys') + field('used_cpu_user');
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
  const redis = await connectRedis(options.redisUrl);
  if (typeof redis === 'string') {
    result.clusterSkipped = `Redis at ${options.redisUrl} cannot be reached (${redis})`;
    progress(`cluster: skipped: ${result.clusterSkipped}`);
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
  // One database for all nodes, as a real cluster must have.
  const args = tlsServerArgs(files, 'stage9', runDatabase(files, 'stage9-cluster'));
  const bus = layout.redis ? ['--redis-url', options.redisUrl, '--redis-prefix', prefix] : [];
  // No CHAT_REDIS_URL from the environment: "alone" must really be alone.
  const env = { CHAT_REDIS_URL: undefined, CHAT_REDIS_PREFIX: undefined };
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < layout.nodes; i++) {
      nodes.push(await launchServer(stage9, [...args, ...bus, '--node-id', `bench${i}`], env));
    }
    const meter = cpuMeter(...nodes);
    const redisCpu: Promise<number>[] = [];
    const ports = nodes.map((n) => n.endpoint.port);
    const endpoint = { host: nodes[0]!.endpoint.host, port: ports[0]!, ports };
    const result = await fanoutLoad(stage9.name, endpoint, options, files, (phase) => {
      meter.mark(phase);
      if (layout.redis) redisCpu.push(redisCpuSeconds(redis));
    });
    const [atStart = NaN, atEnd = NaN] = await Promise.all(redisCpu);
    return {
      ...layout,
      ...result,
      round,
      serverCpuPercent: meter.percent,
      serverCpuUsPerMessage: cpuMicrosPerMessage(meter.percent, result.deliveredPerSecond),
      redisCpuUsPerMessage: cpuMicrosPerMessage(
        ((atEnd - atStart) / meter.seconds) * 100,
        result.sentPerSecond,
      ),
    };
  } finally {
    for (const node of nodes) await node.stop();
    if (layout.redis) await deleteKeysUnder(redis, prefix).catch(() => {});
  }
}
