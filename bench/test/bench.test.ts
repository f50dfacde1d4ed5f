/**
 * Smoke tests for the benchmark harness. They prove that a tiny run starts
 * every server, delivers messages (encrypted ones too), logs stage 6 clients
 * in, measures memory, logins and latency, and produces finite numbers and a
 * report. They never assert on speed: timings on a busy shared machine mean
 * nothing, which is why the benchmark is not a test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScript } from '../../shared/test/helpers';
import { runBench, type BenchResult } from '../bench';
import {
  DEFAULT_OPTIONS,
  DEFAULT_REPORT,
  parseBenchArgs,
  QUICK_OPTIONS,
  SCENARIOS,
  USAGE,
  type BenchOptions,
} from '../options';
import { encodePayload, parsePayload, type Payload } from '../payload';
import { formatReport } from '../report';
import { compare } from '../verdicts';
import { SendWindow } from '../fanout';
import { percentile, Reservoir, summarize } from '../stats';

// A tiny run of everything: 3 clients, 1 sender, 1 second, 20 idle
// connections; 4 logins two at a time and a burst of 10 at a low bcrypt cost
// (8: slow enough that a few chat messages fall inside the burst); 30 idle
// users and 3 chatting in the scale scenario. runBench writes no report file
// (run.ts does), so docs/benchmarks.md is never touched by the tests.
const TINY: BenchOptions = {
  ...DEFAULT_OPTIONS,
  clients: 3,
  senders: 1,
  window: 4,
  // Enough deliveries in 1 s for the server's CPU to read well above zero.
  pace: 2000,
  seconds: 1,
  warmupSeconds: 0.2,
  pacedWarmupSeconds: 0.2,
  rounds: 1,
  idle: 20,
  bcryptCost: 8,
  hashWorkers: 1,
  logins: 4,
  loginClients: 2,
  burst: 10,
  chatters: 2,
  scale: 30,
  active: 3,
  activeRate: 20,
  scaleSeconds: 0.5,
  scaleRounds: 1,
  report: null,
};

describe('runBench', () => {
  let result: BenchResult;
  // A watchdog, not a speed limit: a tiny run starts about 20 processes, which
  // took over 3 minutes with two clones running npm test side by side on 2 cores.
  beforeAll(async () => {
    result = await runBench(TINY);
  }, 600_000);

  it('measures every target in one run, with deliveries and finite numbers', () => {
    const names = ['raw', 'stage4', 'raw-sealed', 'stage5', 'stage6', 'stage7', 'stage8'];
    names.push('stage8-relay', 'stage9');
    expect(result.targets.map((t) => t.name)).toEqual(names);
    expect(result.rounds.map((m) => m.target)).toEqual(names);
    for (const m of result.rounds) {
      const fanout = m.fanout!;
      expect(fanout.deliveredPerSecond).toBeGreaterThan(0);
      expect(fanout.sentPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(fanout.p50Ms)).toBe(true);
      expect(Number.isFinite(fanout.p99Ms)).toBe(true);
      expect(fanout.p99Ms).toBeGreaterThanOrEqual(fanout.p50Ms);
      expect(Number.isFinite(fanout.serverCpuPercent)).toBe(true);
      expect(fanout.lost).toBe(0);
      expect(fanout.disconnected).toBe(0);
      if (m.target === 'stage8') {
        expect(m.paced).toBeNull(); // its clients cannot keep a pace
      } else {
        expect(m.paced?.pace).toBe(TINY.pace);
        expect(m.paced?.sentPerSecond).toBeGreaterThan(0);
        expect(m.paced?.lost).toBe(0);
      }
      if (['raw-sealed', 'stage8', 'stage8-relay', 'stage9'].includes(m.target)) {
        // raw-sealed and stage 9 would repeat raw's and stage 7's memory; stage 8's
        // joins cost n² key-bundle frames, minutes for 1,000 idle members.
        expect(m.idle).toBeNull();
      } else {
        expect(m.idle?.connections).toBe(20);
        expect(m.idle?.disconnected).toBe(0);
        expect(Number.isFinite(m.idle?.rssPerConnectionKiB)).toBe(true);
      }
    }
  });

  it('judges stages 4 and 7 against raw, 5 and 6 against raw-sealed, 8 against 7', () => {
    const judged = compare(result).filter((c) => c.judged);
    expect(judged.map((c) => `${c.target}/${c.baseline}`)).toEqual([
      'stage4/raw',
      'raw-sealed/raw',
      'stage5/raw-sealed',
      'stage6/raw-sealed',
      // Stage 7's clients send plain frames inside TLS, so its baseline is raw.
      'stage7/raw',
      // Stage 8's server is stage 7's relaying opaque boxes: compared with stage 7,
      // and judged there at stage 7's pace (stage8-relay).
      'stage8/stage7',
      'stage8-relay/stage7',
      // One stage 9 node alone: stage 7's server with its bus in between.
      'stage9/stage7',
    ]);
    for (const c of judged) {
      expect(Number.isFinite(c.throughputRatio)).toBe(true);
      // Stage 8 is not paced (its clients check a signature per delivery).
      expect(Number.isFinite(c.cpuPerMessageRatio)).toBe(c.target !== 'stage8');
    }
    const byName = new Map(judged.map((c) => [c.target, c]));
    expect(Number.isFinite(byName.get('stage4')?.memoryRatio)).toBe(true);
    // Every goal gets a verdict; which one depends on the machine's load, so any is fine here
    // (the verdicts themselves are tested on fixed numbers in report.test.ts).
    for (const target of ['stage4', 'stage5', 'stage6']) {
      expect(byName.get(target)?.throughputVerdict?.outcome).toMatch(
        /^(met|not met|inconclusive)$/,
      );
    }
    expect(byName.get('stage8')?.throughputVerdict).toBeNull(); // no goals
    expect(byName.get('stage8')?.cpuPerMessageVerdict).toBeNull();
    expect(byName.get('stage8-relay')?.cpuPerMessageVerdict?.outcome).toMatch(
      /^(met|not met|inconclusive)$/,
    );
  });

  it('logs stage 6 clients in and compares logins per second with workers / t_hash', () => {
    expect(result.logins).toHaveLength(1);
    const m = result.logins[0]!;
    expect(m.completed).toBe(4);
    expect(m.failed).toBe(0);
    for (const value of [m.loginsPerSecond, m.hashMs, m.maxLoginsPerSecond, m.ratio, m.p50Ms]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
    }
  });

  it('measures chat latency with no logins and during a burst of logins', () => {
    expect(result.bursts).toHaveLength(1);
    const m = result.bursts[0]!;
    expect(m.loginsOk).toBe(10);
    expect(m.loginsFailed).toBe(0);
    expect(m.lost).toBe(0);
    expect(m.quiet.samples).toBeGreaterThan(0);
    expect(m.burst.samples).toBeGreaterThan(0);
    expect(Number.isFinite(m.quiet.p99Ms)).toBe(true);
    expect(Number.isFinite(m.burst.p99Ms)).toBe(true);
    expect(Number.isFinite(m.p99Ratio)).toBe(true);
  });

  it('holds idle users on the raw baseline and stage 6, and times the chat with and without them', () => {
    expect(result.scale.map((m) => m.target)).toEqual(['raw', 'stage6']);
    for (const m of result.scale) {
      expect(m.opened).toBe(30);
      expect(m.disconnected).toBe(0);
      expect(m.firstError).toBeNull();
      expect(Number.isFinite(m.rssPerConnectionKiB)).toBe(true);
      expect(m.heapPerConnectionKiB).not.toBeNull();
      for (const period of [m.quiet, m.crowded]) {
        expect(period.samples).toBeGreaterThan(0);
        expect(period.lost).toBe(0);
        expect(Number.isFinite(period.p99Ms)).toBe(true);
      }
      expect(Number.isFinite(m.p99Ratio)).toBe(true);
      expect(m.serverOpenFiles).toBe(result.machine.openFilesForBench);
      expect(m.loadOpenFiles).toBe(result.machine.openFilesForBench);
    }
  });

  it('runs the fan-out over 1, 2 and 3 stage 9 nodes through Redis, or says why not', () => {
    if (result.clusterSkipped !== null) {
      // Only outside CI: there, a Redis that cannot be reached is a failure.
      expect(process.env.CI).not.toBe('true');
      expect(result.cluster).toEqual([]);
      expect(formatReport(result)).toMatch(/stage9 .*\| inconclusive: Redis at/);
      return;
    }
    const layouts = result.cluster.map((m) => `${m.nodes}${m.redis ? 'r' : 'a'}`);
    expect(layouts).toEqual(['1a', '1r', '2r', '3r']);
    for (const m of result.cluster) {
      expect(m.deliveredPerSecond).toBeGreaterThan(0);
      expect(m.lost).toBe(0);
      expect(m.disconnected).toBe(0);
      expect(Number.isFinite(m.p99Ms)).toBe(true);
      expect(Number.isFinite(m.serverCpuUsPerMessage)).toBe(true);
      // Redis's CPU is read only when the nodes use it.
      expect(Number.isNaN(m.redisCpuUsPerMessage)).toBe(!m.redis);
    }
    expect(formatReport(result)).toMatch(/cannot show scaling/);
  });

  it('prints tables and a verdict for every goal', () => {
    const report = formatReport(result);
    expect(report).toMatch(/\| raw +\|/);
    expect(report).toMatch(/\| stage6 +\|/);
    expect(report).toMatch(
      /stage4 \/ raw: throughput [\d.]+x \(goal >= 0\.9x: (met|NOT met|inconclusive: .+)\)/,
    );
    expect(report).toMatch(
      /stage5 \/ raw-sealed: throughput [\d.]+x \(goal >= 0\.7x: (met|NOT met|inconclusive: .+)\)/,
    );
    expect(report).toMatch(
      /stage6 \/ raw-sealed: throughput [\d.]+x \(goal >= 0\.6x: (met|NOT met|inconclusive: .+)\)/,
    );
    expect(report).toMatch(/stage6 logins: [\d.]+x the theoretical maximum/);
    expect(report).toMatch(
      /chat p99 during logins \/ without: [\d.]+x \(goal <= 2x: (met|NOT met|inconclusive: .+)\)/,
    );
    // 30 idle connections move RSS by less than a garbage collection does: on a busy
    // machine this ratio can come out negative, and must then say "inconclusive".
    expect(report).toMatch(
      /stage6 \/ raw: memory per connection with 30 idle -?[\d.,]+x \(goal <= 2\.5x: (met|NOT met|inconclusive: .+)\)/,
    );
    expect(report).toMatch(/stage6 chat p99 with 30 idle \/ without: [\d.]+x \(goal <= 2x/);
    expect(report).toMatch(
      /\| stage6 holds 30 logged-in users at once +\| 30 connected .*\| met +\|/,
    );
    expect(report).not.toMatch(/warning:/);
  });

  it('runs as `npm run bench`, prints the table and writes the report where told', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));
    const report = path.join(dir, 'benchmarks.md');
    const args = ['--only', 'raw', '--clients', '3', '--senders', '1', '--seconds', '0.5'];
    const warm = ['--warmup', '0', '--paced-warmup', '0'];
    const more = [...warm, '--rounds', '1', '--idle', '10', '--scenario', 'fanout,idle'];
    const proc = runScript('bench', [...args, ...more, '--report', report]);
    try {
      await proc.stdout.waitFor(/^\| target +\| delivered msg\/s/);
      const row = await proc.stdout.waitFor(/^\| raw +\|/);
      // The first number in the row is delivered messages per second: some were delivered.
      expect(Number(/\| raw +\| ([\d,]+)/.exec(row)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
      await proc.stdout.waitFor(/^wrote .*benchmarks\.md$/);
      expect(await proc.exit).toBe(0);
      const page = readFileSync(report, 'utf8');
      expect(page).toContain(
        `\`npm run bench -- ${[...args, ...more].join(' ')} --report ${report}\``,
      );
      expect(page).toMatch(/\| raw +\| [\d,]+ +\|/);
      expect(existsSync(path.join(dir, 'benchmarks', 'throughput.svg'))).toBe(true);
      expect(existsSync(path.join(dir, 'benchmarks', 'memory.svg'))).toBe(true);
    } finally {
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('parseBenchArgs', () => {
  it('uses the documented defaults', () => {
    expect(parseBenchArgs([])).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS.scenarios).toEqual([...SCENARIOS]);
  });

  it('reads every flag', () => {
    const flags: [string, string, Partial<BenchOptions>][] = [
      ['--clients', '8', { clients: 8 }],
      ['--senders', '2', { senders: 2 }],
      ['--window', '4', { window: 4 }],
      ['--pace', '500', { pace: 500 }],
      ['--seconds', '1.5', { seconds: 1.5 }],
      ['--warmup', '0', { warmupSeconds: 0 }],
      ['--paced-warmup', '2.5', { pacedWarmupSeconds: 2.5 }],
      ['--rounds', '2', { rounds: 2 }],
      ['--idle', '0', { idle: 0 }],
      ['--bytes', '100', { payloadBytes: 100 }],
      ['--bcrypt-cost', '10', { bcryptCost: 10 }],
      ['--hash-workers', '2', { hashWorkers: 2 }],
      ['--logins', '30', { logins: 30 }],
      ['--login-clients', '4', { loginClients: 4 }],
      ['--burst', '20', { burst: 20 }],
      ['--chatters', '3', { chatters: 3 }],
      ['--scale', '2000', { scale: 2000 }],
      ['--active', '50', { active: 50 }],
      ['--active-rate', '2.5', { activeRate: 2.5 }],
      ['--scale-seconds', '4', { scaleSeconds: 4 }],
      ['--scale-rounds', '1', { scaleRounds: 1 }],
      ['--only', 'stage4', { only: ['stage4'] }],
      ['--report', 'out.md', { report: 'out.md' }],
      ['--json', 'out.json', { json: 'out.json' }],
      ['--redis-url', 'redis://localhost:6380', { redisUrl: 'redis://localhost:6380' }],
    ];
    expect(parseBenchArgs(flags.flatMap(([flag, value]) => [flag, value]))).toMatchObject(
      Object.assign({}, ...flags.map(([, , expected]) => expected)),
    );
    expect(parseBenchArgs(['--no-report'])).toMatchObject({ report: null });
    expect(parseBenchArgs(['--scenario', 'scale'])).toMatchObject({ scenarios: ['scale'] });
    // Every number flag the help lists is in this test.
    const listed = [...USAGE.matchAll(/^ {2}(--[\w-]+) [NSR] /gm)].map((m) => m[1]);
    expect(listed).toHaveLength(21);
    expect(flags.map(([flag]) => flag)).toEqual(expect.arrayContaining(listed));
  });

  it('reads lists of targets and scenarios', () => {
    const options = parseBenchArgs(['--only', 'raw-sealed,stage5', '--scenario', 'fanout,burst']);
    expect(options).toMatchObject({
      only: ['raw-sealed', 'stage5'],
      scenarios: ['fanout', 'burst'],
    });
  });

  it.each([
    [['--clients', '1']],
    [['--clients', '3', '--senders', '4']],
    [['--window', '0']],
    [['--rounds', '2.5']],
    [['--idle', 'many']],
    [['--only', 'nosuch']],
    [['--only', ',']],
    [['--scenario', 'fanout,nosuch']],
    [['--bcrypt-cost', '3']],
    [['--bcrypt-cost', '17']],
    [['--burst', '0']],
    [['--scale', '20001']],
    [['--active', '1']],
    [['--active-rate', '0']],
    [['--report', 'x.md', '--no-report']],
    [['--redis-url', 'redis://example.com:6379']],
    [['--scenario', 'clusters']],
    [['--bogus']],
  ])('rejects %j with BAD_ARGUMENT', (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('shrinks everything with --quick, but explicit flags still win', () => {
    const quick = parseBenchArgs(['--quick']);
    expect(quick).toMatchObject(QUICK_OPTIONS);
    expect(quick).toMatchObject({ quick: true, report: DEFAULT_REPORT });
    expect(parseBenchArgs(['--quick', '--rounds', '2', '--scale', '500'])).toMatchObject({
      quick: true,
      rounds: 2,
      scale: 500,
      idle: QUICK_OPTIONS.idle,
    });
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
