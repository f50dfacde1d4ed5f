/**
 * The verdicts both stages share: how the delivery ledger's findings and the
 * memory readings become checks, and the limits behind them.
 *
 * @module
 */
import type { CheckList } from './checks';
import type { DeliveryVerdict } from './delivery-ledger';
import type { MemoryReport } from '../bench/memory-report';

/**
 * The most a drain step may take before it fails the run. A safety net, not a
 * timing assertion: on a healthy server each step takes well under a second;
 * reaching this limit means lost frames or a hung server.
 */
export const DRAIN_LIMIT_MS = 60_000;

/**
 * The memory bound: after forced GCs, the server's heap at the end of the run
 * may exceed its heap after warm-up by at most this factor plus this slack.
 *
 * Why these numbers: at both readings the room holds the same steady
 * chatters, so the live objects should be the same; what legitimately differs
 * is small (rate-limit buckets of the intruders' addresses, code V8 compiled
 * later, the state of churners that happened to be mid-login at the warm-up
 * reading). Measured runs moved by less than 0.5 MiB either way. A leak per
 * connection adds up over the churned and refused connections (about a
 * thousand in a default run, ten times more with `--long`), and a leak
 * proportional to traffic grows with the run's length.
 */
export const MEMORY_BOUND = { factor: 1.05, slackMiB: 1 } as const;

/**
 * When to take the warm-up reading: after a fifth of the load, at most 20 s
 * in (so churn and the stuck reader have settled into their steady state).
 *
 * @param loadMs - the length of the load phase
 */
export function warmupMs(loadMs: number): number {
  return Math.min(loadMs / 5, 20_000);
}

/**
 * Adds the `delivery` check: exactly once, in order, to everyone owed.
 *
 * @param checks - where to add it
 * @param verdict - the ledger's verdict
 */
export function summarizeDelivery(checks: CheckList, verdict: DeliveryVerdict): void {
  const problems = [...verdict.problems].map(([kind, n]) => `${n}× ${kind}`).join('; ');
  checks.add(
    'delivery',
    // Nothing owed means nobody was left to check: a failure, not a pass.
    verdict.problems.size === 0 && verdict.owedAtEnd > 0,
    problems ||
      `${verdict.sent} messages sent, ${verdict.received} deliveries, each once and in order; ` +
        `all ${verdict.owedAtEnd} owed to the chatters present at the end arrived`,
  );
}

/**
 * Adds the `memory` check.
 *
 * @param checks - where to add it
 * @param warm - the reading after warm-up (null if the server did not answer)
 * @param end - the reading after the drain
 * @param connections - connections opened and closed between the two readings
 */
export function checkMemory(
  checks: CheckList,
  warm: MemoryReport | null,
  end: MemoryReport | null,
  connections: number,
): void {
  if (!warm || !end || !warm.gc) {
    checks.add('memory', false, 'no memory reading (the server did not answer over IPC)');
    return;
  }
  const limit = warm.heapUsed * MEMORY_BOUND.factor + MEMORY_BOUND.slackMiB * 1024 * 1024;
  checks.add(
    'memory',
    end.heapUsed <= limit,
    `heap after GC ${mib(warm.heapUsed)} MiB at warm-up → ${mib(end.heapUsed)} MiB at the end ` +
      `(bound ${mib(limit)} = ${MEMORY_BOUND.factor}× + ${MEMORY_BOUND.slackMiB} MiB); ` +
      `${signedBytesPer(end.heapUsed - warm.heapUsed, connections)} per connection churned since; ` +
      `rss ${mib(warm.rss)} → ${mib(end.rss)} MiB`,
  );
}

/** Bytes → MiB with one decimal, for the report. */
function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function signedBytesPer(bytes: number, connections: number): string {
  if (connections === 0) return 'n/a';
  const per = Math.round(bytes / connections);
  return `${per >= 0 ? '+' : ''}${per} B`;
}
