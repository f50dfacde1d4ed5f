/**
 * The report's section for the cluster scenario (stage 9 over Redis): one
 * row per layout, the latency the Redis hop adds, what 2 cores can and
 * cannot show, and a capacity model built from the measured costs.
 *
 * No goal is judged here. On 2 cores three nodes, Redis and the load
 * process share two CPUs, so more nodes cannot deliver more: the scenario
 * measures what each message costs (node CPU summed over the nodes, Redis's
 * CPU) and turns that into a model, instead of pretending to show scaling.
 *
 * @module
 */
import type { BenchResult } from './bench';
import { cell, format, table } from './report-format';
import type { ClusterLayout, ClusterMeasurement } from './stage9-scale';
import { CLUSTER_LAYOUTS } from './stage9-scale';
import { summarize, type Summary } from './stats';
import { judge, type Evidence, type Judgement } from './verdict';

/** `1 node alone`, `2 nodes via Redis`. */
export function layoutName(layout: ClusterLayout): string {
  const nodes = `${layout.nodes} node${layout.nodes === 1 ? '' : 's'}`;
  return `${nodes} ${layout.redis ? 'via Redis' : 'alone'}`;
}

const same = (a: ClusterLayout) => (b: ClusterLayout) => a.nodes === b.nodes && a.redis === b.redis;

/**
 * One number of one layout's rounds, summarised.
 *
 * @param result - a finished run
 * @param layout - which layout
 * @param value - the number, from one round
 */
export function clusterSummary(
  result: BenchResult,
  layout: ClusterLayout,
  value: (m: ClusterMeasurement) => number,
): Summary {
  return summarize(result.cluster.filter(same(layout)).map(value));
}

const ALONE: ClusterLayout = { nodes: 1, redis: false };
const ONE_VIA_REDIS: ClusterLayout = { nodes: 1, redis: true };
const THREE: ClusterLayout = { nodes: 3, redis: true };

/** The Redis hop: 1 node via Redis minus 1 node alone, p50 and p99 (medians over rounds). */
export function redisHop(result: BenchResult): { p50Ms: number; p99Ms: number } {
  const hop = (value: (m: ClusterMeasurement) => number) =>
    clusterSummary(result, ONE_VIA_REDIS, value).median -
    clusterSummary(result, ALONE, value).median;
  return { p50Ms: hop((m) => m.p50Ms), p99Ms: hop((m) => m.p99Ms) };
}

/**
 * The cluster scenario's line in the goals table: reported, never met (there
 * is no goal a 2-core machine could test), or inconclusive when Redis could
 * not be reached or a figure cannot be true.
 *
 * @param result - a finished run
 * @returns the judgement and what was measured, or null if the scenario was not asked for
 */
export function clusterVerdict(
  result: BenchResult,
): (Judgement & { goal: string; measured: string }) | null {
  const goal = 'stage9 server CPU per delivered message, 3 nodes via Redis / 1 alone (reported)';
  if (result.clusterSkipped !== null) {
    return { goal, measured: 'not run', outcome: 'inconclusive', reason: result.clusterSkipped };
  }
  if (result.cluster.length === 0) return null;
  const cpu = (m: ClusterMeasurement) => m.serverCpuUsPerMessage;
  const ratio =
    clusterSummary(result, THREE, cpu).median / clusterSummary(result, ALONE, cpu).median;
  const evidence = (layout: ClusterLayout): Evidence => ({
    what: `stage9 ${layoutName(layout)} server CPU µs per delivered message`,
    values: result.cluster.filter(same(layout)).map(cpu),
    rounds: result.options.rounds,
  });
  return {
    goal,
    measured: `${format(ratio, 2)}×`,
    ...judge(ratio, null, [evidence(THREE), evidence(ALONE)]),
  };
}

/**
 * The section's lines (none if the scenario was not asked for).
 *
 * @param result - a finished run
 */
export function formatClusterReport(result: BenchResult): string[] {
  const o = result.options;
  if (result.clusterSkipped !== null) {
    return [`cluster (stage 9): not run, inconclusive: ${result.clusterSkipped}`];
  }
  if (result.cluster.length === 0) return [];
  const row = (layout: ClusterLayout) => {
    const s = (value: (m: ClusterMeasurement) => number, digits: number) =>
      cell(clusterSummary(result, layout, value), digits, o);
    return [
      layoutName(layout),
      s((m) => m.deliveredPerSecond, 0),
      s((m) => m.p50Ms, 1),
      s((m) => m.p99Ms, 1),
      s((m) => m.serverCpuUsPerMessage, 2),
      layout.redis ? s((m) => m.redisCpuUsPerMessage, 2) : '-',
      s((m) => m.loadCpuPercent, 0),
    ];
  };
  const ran = CLUSTER_LAYOUTS.filter((l) => result.cluster.some(same(l)));
  const hop = redisHop(result);
  const lines = [
    `cluster (stage 9 over ${o.redisUrl}): ${o.clients} clients spread over the nodes, ` +
      `${o.senders} senders, window ${o.window}, ${o.seconds} s measured; ${o.rounds} round(s), ` +
      'median (min–max)',
    '',
    table([
      [
        'layout',
        'delivered msg/s',
        'p50 ms',
        'p99 ms',
        'nodes CPU µs/msg (sum)',
        'Redis CPU µs/msg sent',
        'load CPU %',
      ],
      ...ran.map(row),
    ]),
    '',
    `the Redis hop adds p50 ${format(hop.p50Ms, 2)} ms, p99 ${format(hop.p99Ms, 2)} ms ` +
      '(1 node via Redis minus 1 node alone: the same server, with and without Redis between; ' +
      'a difference below zero is noise)',
    `note: this machine has ${result.machine.cores} core(s), shared by every node, Redis and ` +
      'the load process: more nodes cannot deliver more here, so this run cannot show scaling. ' +
      'Read the costs per message, not msg/s.',
    'note: Redis CPU counts every client of that Redis during the measured seconds, not only ' +
      "this run's nodes: an upper bound on a shared machine",
    ...capacityModel(result),
  ];
  for (const m of result.cluster) {
    if (m.lost + m.disconnected > 0) {
      lines.push(
        `warning: stage9 ${layoutName(m)} round ${m.round}: ${m.lost} deliveries lost, ` +
          `${m.disconnected} clients disconnected`,
      );
    }
  }
  return lines;
}

/**
 * What the measured costs predict for machines with a core per node: each
 * node does its share of the deliveries, and Redis, single-threaded, handles
 * every message once per node.
 */
function capacityModel(result: BenchResult): string[] {
  const largest = [...CLUSTER_LAYOUTS]
    .reverse()
    .find((l) => l.redis && result.cluster.some(same(l)));
  if (largest === undefined) return [];
  const nodeUs = clusterSummary(result, largest, (m) => m.serverCpuUsPerMessage).median;
  const redisUs = clusterSummary(result, largest, (m) => m.redisCpuUsPerMessage).median;
  if (!(nodeUs > 0) || !(redisUs > 0)) return [];
  const receivers = result.options.clients - 1;
  const perNode = 1e6 / nodeUs; // deliveries per second one node's core can make
  return [
    `capacity model (from ${layoutName(largest)}; one core per node, a room of ` +
      `${result.options.clients}): a node's core makes about ${format(perNode, 0)} ` +
      `deliveries/s, so N nodes carry about N × ${format(perNode / receivers, 0)} sent msg/s; ` +
      `Redis, one thread, caps the room near ${format(1e6 / redisUs, 0)} sent msg/s ` +
      `(at ${largest.nodes} subscribing nodes; each more node adds to Redis's cost per message). ` +
      'The costs were measured with every process on the same few cores, at a lower rate than ' +
      'one node alone (less batching per read): a pessimistic model',
  ];
}
