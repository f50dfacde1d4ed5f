/**
 * Smoke tests for the benchmark harness. They prove that a tiny run starts
 * every server, delivers messages, measures memory and produces finite
 * numbers and a report. They never assert on speed: timings on a busy shared
 * machine mean nothing, which is why the benchmark is not a test.
 */
import { runScript } from '../../shared/test/helpers';
import { runBench } from '../bench';
import { DEFAULT_OPTIONS, parseBenchArgs, type BenchOptions } from '../options';
import { encodePayload, parsePayload, type Payload } from '../payload';
import { compare, formatReport } from '../report';
import { SendWindow } from '../send-window';
import { percentile, Reservoir, summarize } from '../stats';

// A tiny round: 3 clients, 1 sender, 1 second, 20 idle connections.
const TINY: BenchOptions = {
  ...DEFAULT_OPTIONS,
  clients: 3,
  senders: 1,
  window: 4,
  seconds: 1,
  warmupSeconds: 0.2,
  rounds: 1,
  idle: 20,
};

describe('runBench', () => {
  it('measures the raw baseline and stage 4 in one run, with finite numbers', async () => {
    const result = await runBench(TINY);

    expect(result.targets.map((t) => t.name)).toEqual(['raw', 'stage4']);
    expect(result.rounds).toHaveLength(2);
    for (const m of result.rounds) {
      expect(m.fanout.deliveredPerSecond).toBeGreaterThan(0);
      expect(m.fanout.sentPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(m.fanout.p50Ms)).toBe(true);
      expect(Number.isFinite(m.fanout.p99Ms)).toBe(true);
      expect(m.fanout.p99Ms).toBeGreaterThanOrEqual(m.fanout.p50Ms);
      expect(Number.isFinite(m.fanout.serverCpuPercent)).toBe(true);
      expect(m.fanout.lost).toBe(0);
      expect(m.fanout.disconnected).toBe(0);
      expect(m.idle?.connections).toBe(20);
      expect(m.idle?.disconnected).toBe(0);
      expect(Number.isFinite(m.idle?.rssPerConnectionKiB)).toBe(true);
    }
    const [stage4] = compare(result);
    expect(stage4?.target).toBe('stage4');
    expect(Number.isFinite(stage4?.throughputRatio)).toBe(true);
    expect(Number.isFinite(stage4?.memoryRatio)).toBe(true);
    expect(typeof stage4?.throughputMet).toBe('boolean');

    const report = formatReport(result);
    expect(report).toMatch(/\| raw +\|/);
    expect(report).toMatch(/stage4 \/ raw: throughput [\d.]+x \(goal >= 0\.9x: (met|NOT met)\)/);
  }, 180_000);

  it('runs as `npm run bench` and prints the table', async () => {
    const args = ['--only', 'raw', '--clients', '3', '--senders', '1', '--seconds', '0.5'];
    const proc = runScript('bench', [...args, '--warmup', '0', '--rounds', '1', '--idle', '10']);
    try {
      await proc.stdout.waitFor(/^\| target +\| delivered msg\/s/);
      const row = await proc.stdout.waitFor(/^\| raw +\|/);
      // The first number in the row is delivered messages per second: some were delivered.
      expect(Number(/\| raw +\| ([\d,]+)/.exec(row)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(await proc.exit).toBe(0);
    } finally {
      proc.kill();
    }
  }, 180_000);
});

describe('parseBenchArgs', () => {
  it('uses the documented defaults', () => {
    expect(parseBenchArgs([])).toEqual(DEFAULT_OPTIONS);
  });

  it('reads every flag', () => {
    const argv = ['--clients', '8', '--senders', '2', '--window', '4', '--seconds', '1.5'];
    const more = ['--rounds', '2', '--idle', '0', '--only', 'stage4', '--warmup', '0'];
    expect(parseBenchArgs([...argv, ...more])).toMatchObject({
      clients: 8,
      senders: 2,
      window: 4,
      seconds: 1.5,
      rounds: 2,
      idle: 0,
      only: 'stage4',
      warmupSeconds: 0,
    });
  });

  it.each([
    [['--clients', '1']],
    [['--clients', '3', '--senders', '4']],
    [['--window', '0']],
    [['--rounds', '2.5']],
    [['--idle', 'many']],
    [['--only', 'nosuch']],
    [['--bogus']],
  ])('rejects %j with BAD_ARGUMENT', (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('answers --help', () => {
    expect(parseBenchArgs(['--help'])).toBe('help');
  });
});

describe('stats', () => {
  it('computes nearest-rank percentiles', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises rounds as median, min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4 });
  });

  it('keeps a bounded sample of an unbounded stream', () => {
    const reservoir = new Reservoir(100);
    for (let i = 0; i < 10_000; i++) reservoir.add(i);
    expect(reservoir.count).toBe(10_000);
    const kept = reservoir.sorted();
    expect(kept).toHaveLength(100);
    expect(kept[0]!).toBeLessThanOrEqual(kept[99]!);
  });
});

describe('payload', () => {
  it('round-trips sender, sequence number and send time, padded to size', () => {
    const text = encodePayload(7, 12345, 64);
    expect(text).toHaveLength(64);
    const out: Payload = { sender: -1, seq: -1, sentAtUs: -1 };
    expect(parsePayload(text, out)).toBe(true);
    expect(out.sender).toBe(7);
    expect(out.seq).toBe(12345);
    expect(out.sentAtUs).toBeGreaterThan(0);
  });

  it.each(['', 's 1', 'm x 2 3 ', 'm 1 2 3', 'hello'])('rejects %j', (text) => {
    expect(parsePayload(text, { sender: 0, seq: 0, sentAtUs: 0 })).toBe(false);
  });
});

describe('SendWindow', () => {
  it('lets a message out only when the oldest one reached every recipient', () => {
    const window = new SendWindow(2, 3);
    expect(window.open()).toBe(1);
    expect(window.open()).toBe(2);
    expect(window.canSend).toBe(false);
    expect(window.receive(1)).toBe(false);
    expect(window.receive(1)).toBe(false);
    expect(window.outstanding()).toBe(4);
    expect(window.receive(1)).toBe(true); // third recipient: message 1 is done
    expect(window.canSend).toBe(true);
    expect(window.open()).toBe(3); // reuses message 1's slot
    expect(window.receive(1)).toBe(false); // a stray duplicate changes nothing
    expect(window.outstanding()).toBe(6);
  });
});
