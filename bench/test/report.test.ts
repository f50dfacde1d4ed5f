/**
 * Tests of the report, the verdicts and the charts on a fixed run (no
 * servers are started), of the report file writer in a temporary directory,
 * and of the open-file limit the benchmark gives the processes it starts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../shared/test/helpers';
import { cpuMicrosPerMessage } from '../fanout';
import { barChartSvg, buildCharts, CHART_NAMES, compact } from '../charts';
import { raisedLimit, withOpenFileLimit } from '../machine';
import { QUICK_OPTIONS } from '../options';
import { formatMarkdownReport, formatReport, reportSections, writeMarkdownReport } from '../report';
import { compare, judge, judgementText, PACE_KEPT, verdicts } from '../verdicts';
import { fixedResult } from './fixture';

/** Checks that every tag is closed in order and there is one root: enough XML for an SVG. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  let roots = 0;
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (closing) {
      expect(stack.pop()).toBe(name);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(svg.startsWith('<svg ')).toBe(true);
  // A raw "<" or "&" in text would break the document.
  expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<]|&(?!amp;|lt;|gt;|quot;)/);
}

/** The heights of the bars (the rects that carry a tooltip), in drawing order. */
function barHeights(svg: string): number[] {
  return [...svg.matchAll(/<rect [^>]*height="([\d.]+)"[^>]*><title>/g)].map((m) => Number(m[1]));
}

describe('barChartSvg', () => {
  it('draws one bar per value, a whisker where rounds differ, and escapes text', () => {
    const svg = barChartSvg({
      title: 'a < b & "c"',
      unit: 'ms',
      series: ['p50', 'p99'],
      groups: [
        {
          label: 'raw',
          values: [
            { median: 2, min: 1, max: 3 },
            { median: 8, min: 8, max: 8 },
          ],
        },
        { label: 'stage<6>', values: [null, { median: 20, min: 10, max: 30 }] },
      ],
    });
    expectWellFormed(svg);
    expect(barHeights(svg)).toHaveLength(3);
    expect(svg.match(/<g stroke=/g)).toHaveLength(2); // no whisker where min = max
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(svg).toContain('stage&lt;6&gt;');
    expect(svg).not.toMatch(/NaN|Infinity/);
    const [small, middle, large] = barHeights(svg);
    expect(small!).toBeLessThan(middle!);
    expect(middle!).toBeLessThan(large!);
  });

  it('puts powers of ten on a log axis, and bars grow with their values', () => {
    const svg = barChartSvg({
      title: 'throughput',
      unit: 'msg/s',
      scale: 'log',
      series: ['msg/s'],
      groups: [
        { label: 'a', values: [{ median: 50, min: 40, max: 60 }] },
        { label: 'b', values: [{ median: 2_000_000, min: 2_000_000, max: 2_000_000 }] },
      ],
    });
    expectWellFormed(svg);
    for (const tick of ['10', '100', '1k', '10k', '100k', '1M', '10M']) {
      expect(svg).toContain(`fill="#444444">${tick}</text>`);
    }
    expect(svg).toContain('msg/s (log scale)');
    const [a, b] = barHeights(svg);
    expect(a!).toBeGreaterThan(0);
    expect(b!).toBeGreaterThan(a! * 3);
  });

  it('survives a chart with no values', () => {
    const svg = barChartSvg({ title: 'empty', unit: 'ms', series: ['x'], groups: [] });
    expectWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it.each([
    [2_270_991, '2.27M'],
    [98_986, '99k'],
    [1_500, '1.5k'],
    [250.4, '250'],
    [12.34, '12.3'],
    [5.031, '5.03'],
    [0.314, '0.31'],
    [NaN, '-'],
  ])('labels %p as %p', (value, label) => {
    expect(compact(value)).toBe(label);
  });
});

const formatClusterReport = (result: ReturnType<typeof fixedResult>) =>
  reportSections(result).find((s) => s.id === 'cluster')?.lines ?? [];

describe('the cluster section (stage 9 over Redis)', () => {
  it('lists every layout, the Redis hop, the 2-core caveat and the capacity model', () => {
    const lines = formatClusterReport(fixedResult()).join('\n');
    for (const layout of [
      '1 node alone',
      '1 node via Redis',
      '2 nodes via Redis',
      '3 nodes via Redis',
    ]) {
      expect(lines).toMatch(new RegExp(`^\\| ${layout} +\\|`, 'm'));
    }
    // The fixture's p50 is 2 ms alone and 3 ms via Redis in the median round.
    expect(lines).toMatch(/the Redis hop adds p50 1\.00 ms, p99 2\.00 ms/);
    expect(lines).toMatch(/cannot show scaling/);
    expect(lines).toMatch(/capacity model \(from 3 nodes via Redis/);
    const verdict = verdicts(fixedResult()).find((v) => v.goal.startsWith('stage9'))!;
    expect(verdict.outcome).toBe('reported'); // never "met": there is no goal to meet on 2 cores
    expect(verdict.measured).toBe('1.30×'); // 26 / 20 µs per delivered message
  });

  it('says inconclusive, with the reason, when Redis could not be reached', () => {
    const reason = 'Redis at redis://127.0.0.1:6379 cannot be reached (connect ECONNREFUSED)';
    const result = fixedResult({ cluster: [], clusterSkipped: reason });
    expect(formatClusterReport(result)).toEqual([
      `cluster (stage 9): not run, inconclusive: ${reason}`,
    ]);
    const verdict = verdicts(result).find((v) => v.goal.startsWith('stage9'))!;
    expect(verdict).toMatchObject({ outcome: 'inconclusive', reason });
    expect(formatReport(result)).toMatch(/stage9 .*\| inconclusive: Redis at/);
  });

  it('leaves the section out when the scenario was not asked for', () => {
    const result = fixedResult({ cluster: [] });
    expect(formatClusterReport(result)).toEqual([]);
    expect(verdicts(result).some((v) => v.goal.startsWith('stage9'))).toBe(false);
  });
});

describe('verdicts', () => {
  it('judges every goal of a full run, met or not', () => {
    const byGoal = new Map(verdicts(fixedResult()).map((v) => [v.goal, v]));
    expect([...byGoal.keys()]).toEqual([
      'stage4 throughput ≥ 0.9× raw',
      'stage4 memory per idle connection ≤ 2× raw',
      'stage4 server CPU per delivered message (paced) ≤ 1× raw',
      'stage5 throughput ≥ 0.7× raw-sealed',
      'stage5 server CPU per delivered message (paced) ≤ 1.1× raw-sealed',
      'stage6 throughput ≥ 0.6× raw-sealed',
      'stage6 server CPU per delivered message (paced) ≤ 1.1× raw-sealed',
      // Stage 8's server is judged at stage 7's pace (its e2e clients set a far lower one).
      'stage8-relay server CPU per delivered message (paced) ≤ 1× stage7',
      'stage6 logins/s against workers / t_hash (no target: reported)',
      'stage6 chat p99 during 50 logins ≤ 2× without',
      'stage6 holds 10,000 logged-in users at once',
      'stage6 memory per connection with 10,000 idle ≤ 2.5× raw',
      'stage6 chat p99 with 10,000 idle ≤ 2× without',
      'stage9 server CPU per delivered message, 3 nodes via Redis / 1 alone (reported)',
    ]);
    const outcome = (goal: string) => byGoal.get(goal)!.outcome;
    expect(outcome('stage4 throughput ≥ 0.9× raw')).toBe('met'); // 0.95
    expect(outcome('stage4 memory per idle connection ≤ 2× raw')).toBe('met'); // 1.5
    expect(outcome('stage6 throughput ≥ 0.6× raw-sealed')).toBe('not met'); // 0.5
    expect(outcome('stage6 server CPU per delivered message (paced) ≤ 1.1× raw-sealed')).toBe(
      'not met',
    ); // 2
    expect(outcome('stage8-relay server CPU per delivered message (paced) ≤ 1× stage7')).toBe(
      'met',
    ); // 0.9
    expect(outcome('stage6 logins/s against workers / t_hash (no target: reported)')).toBe(
      'reported',
    );
    expect(outcome('stage6 memory per connection with 10,000 idle ≤ 2.5× raw')).toBe('met'); // 2
    expect(outcome('stage6 chat p99 with 10,000 idle ≤ 2× without')).toBe('not met'); // 10
    expect(byGoal.get('stage6 throughput ≥ 0.6× raw-sealed')!.measured).toBe(
      '0.50× (rounds 0.50–0.50×)',
    );
    expect(byGoal.get('stage6 chat p99 with 10,000 idle ≤ 2× without')!.measured).toBe(
      '10.00× (rounds 10.00–10.00×) (raw: 3.00×)',
    );
  });

  it('judges a ratio within each round, so drift common to both figures cancels', () => {
    // A real 3-round run: the machine slowed both servers in rounds 1 and 3.
    // Round by round stage 5 cost 1.12x, 1.13x and 0.99x; the two medians
    // (2.73 and 2.61, from rounds 3 and 1) would say 1.05x and "met".
    const cpu: Record<string, number[]> = {
      'raw-sealed': [2.61, 1.84, 2.77],
      stage5: [2.93, 2.08, 2.73],
    };
    const result = fixedResult();
    for (const r of result.rounds) {
      const us = cpu[r.target]?.[r.round - 1];
      if (us !== undefined) r.paced = { ...r.paced!, serverCpuUsPerMessage: us };
    }
    const stage5 = compare(result).find((c) => c.target === 'stage5' && c.judged)!;
    expect(stage5.cpuPerMessageRatio).toBeCloseTo(2.93 / 2.61);
    expect(stage5.cpuPerMessageVerdict?.outcome).toBe('not met');
    const goal = 'stage5 server CPU per delivered message (paced) ≤ 1.1× raw-sealed';
    expect(verdicts(result).find((v) => v.goal === goal)!.measured).toBe(
      '1.12× (rounds 0.99–1.13×)',
    );
  });

  it('prints more decimals where two would show a missed goal as its limit', () => {
    // 1.1004× against ≤ 1.1×: not met, and "1.10×" or "1.100×" beside it would read as met.
    const result = fixedResult();
    for (const r of result.rounds) {
      const us = { 'raw-sealed': 2.5, stage5: 2.751 }[r.target];
      if (us !== undefined) r.paced = { ...r.paced!, serverCpuUsPerMessage: us };
    }
    const goal = 'stage5 server CPU per delivered message (paced) ≤ 1.1× raw-sealed';
    const verdict = verdicts(result).find((v) => v.goal === goal)!;
    expect(verdict.outcome).toBe('not met');
    expect(verdict.measured).toBe('1.1004× (rounds 1.10–1.10×)');
    expect(formatReport(result)).toMatch(
      /stage5 \/ raw-sealed: .*server CPU per message 1\.1004x \(rounds 1\.10–1\.10x; target <= 1\.1x: not met\)/,
    );
    // Two decimals where they already tell: the other goals keep theirs.
    expect(verdicts(result).find((v) => v.goal.startsWith('stage6 throughput'))!.measured).toBe(
      '0.50× (rounds 0.50–0.50×)',
    );
  });

  it('leaves out the goals whose measurements did not run', () => {
    const result = fixedResult({ bursts: [], scale: [], logins: [], cluster: [] });
    const goals = verdicts(result).map((v) => v.goal);
    expect(goals).toHaveLength(8);
    expect(goals.join()).not.toMatch(/logins|idle ≤|holds/);
  });

  it('says NOT met when stage 6 could not hold every user', () => {
    const result = fixedResult();
    result.scale[1] = { ...result.scale[1]!, opened: 6_000, firstError: 'NAME_TAKEN: taken' };
    const held = verdicts(result).find((v) => v.goal.includes('holds'))!;
    expect(held.outcome).toBe('not met');
    expect(held.measured).toMatch(/^6,000 connected/);
    expect(formatReport(result)).toMatch(
      /warning: scale stage6 round 1: 6000 of 10000 .*NAME_TAKEN/,
    );
  });
});

describe('impossible measurements are inconclusive, never met', () => {
  const verdictOf = (result: ReturnType<typeof fixedResult>, part: string) => {
    const found = verdicts(result).find((v) => v.goal.includes(part));
    if (found === undefined) throw new Error(`no goal about ${part}`);
    return found;
  };

  it('a negative memory per connection (a GC between the readings) is inconclusive', () => {
    // The failure seen in npm test: "memory per connection with 30 idle -23.05x (goal <= 2.5x: met)".
    const result = fixedResult();
    result.scale = result.scale.map((m) =>
      m.target === 'stage6' ? { ...m, rssPerConnectionKiB: -46.1 } : m,
    );
    const v = verdictOf(result, 'memory per connection with 10,000 idle');
    expect(v.outcome).toBe('inconclusive');
    expect(v.reason).toBe(
      'stage6 RSS KiB per idle connection was -46.10 in round 1, which cannot be true',
    );
    expect(formatReport(result)).toMatch(
      /memory per connection with 10,000 idle -23\.05x \(goal <= 2\.5x: inconclusive: stage6 RSS/,
    );
    expect(formatReport(result)).toMatch(/\| inconclusive: stage6 RSS KiB per idle connection was/);
  });

  it('a zero in the denominator, or a NaN, is inconclusive', () => {
    const zero = fixedResult();
    zero.rounds = zero.rounds.map((m) =>
      m.target === 'raw' && m.idle ? { ...m, idle: { ...m.idle, rssPerConnectionKiB: 0 } } : m,
    );
    expect(verdictOf(zero, 'stage4 memory per idle')).toMatchObject({
      outcome: 'inconclusive',
      reason: 'raw RSS KiB per idle connection was 0.00 in round 1, which cannot be true',
    });
    const nan = fixedResult();
    nan.bursts = nan.bursts.map((m, i) =>
      i === 1 ? { ...m, quiet: { ...m.quiet, p99Ms: NaN }, p99Ratio: NaN } : m,
    );
    expect(verdictOf(nan, 'during 50 logins')).toMatchObject({
      outcome: 'inconclusive',
      reason: 'only 2 of 3 rounds measured stage6 chat p99 ms without logins',
    });
  });

  it('zero rounds, or a round that crashed before measuring, is inconclusive', () => {
    const none = fixedResult();
    none.bursts = [];
    none.options = { ...none.options, rounds: 3 };
    expect(verdicts(none).some((v) => v.goal.includes('during'))).toBe(false); // not run: not listed
    const crashed = fixedResult();
    crashed.scale = crashed.scale.filter((m) => !(m.target === 'stage6' && m.round === 2));
    crashed.options = { ...crashed.options, scaleRounds: 3 };
    expect(verdictOf(crashed, 'chat p99 with 10,000 idle')).toMatchObject({
      outcome: 'inconclusive',
      reason: 'only 2 of 3 rounds measured stage6 chat p99 ms without the crowd',
    });
    const throughput = fixedResult();
    throughput.rounds = throughput.rounds.filter((m) => !(m.target === 'stage4' && m.round === 3));
    expect(verdictOf(throughput, 'stage4 throughput')).toMatchObject({
      outcome: 'inconclusive',
      reason: 'only 2 of 3 rounds measured stage4 delivered msg/s',
    });
  });

  it('judge() itself: checks the inputs before it compares', () => {
    const e = (values: number[]) => [{ what: 'x', values, rounds: values.length }];
    expect(judge(1, { atMost: 2 }, e([1, 2]))).toEqual({ outcome: 'met' });
    expect(judge(3, { atMost: 2 }, e([1, 2]))).toEqual({ outcome: 'not met' });
    expect(judge(1, { atLeast: 0.9 }, e([1]))).toEqual({ outcome: 'met' });
    expect(judge(1, null, e([1]))).toEqual({ outcome: 'reported' });
    expect(judge(1, { atMost: 2 }, e([]))).toMatchObject({
      outcome: 'inconclusive',
      reason: 'no round measured x',
    });
    expect(judge(-1, { atMost: 2 }, e([1]))).toMatchObject({
      outcome: 'inconclusive',
      reason: 'the ratio came out as -1',
    });
    expect(judge(1, { atMost: 2 }, e([Infinity]))).toMatchObject({ outcome: 'inconclusive' });
    expect(judgementText({ outcome: 'not met' }, true)).toBe('NOT met');
    expect(judgementText({ outcome: 'inconclusive', reason: 'why' })).toBe('inconclusive: why');
  });
});

describe('the printed report', () => {
  it('shows every section, with medians and min–max, and a verdict for every goal', () => {
    const report = formatReport(fixedResult());
    expect(report).toMatch(/^machine: Test CPU <fixed>, 2 cores/);
    expect(report).toMatch(/open files soft 1024 \/ hard 20000 \(bench processes: 20000\)/);
    expect(report).toMatch(/\| stage6 +\| 50,000 \(45,000–55,000\) +\|/);
    expect(report).toMatch(/stage6 \/ raw-sealed: throughput 0\.50x \(goal >= 0\.6x: NOT met\)/);
    expect(report).toMatch(/stage6 \/ raw: memory per connection with 10,000 idle 2\.00x/);
    expect(report).toMatch(
      /\| stage6 chat p99 with 10,000 idle ≤ 2× without +\| .* \| not met +\|/,
    );
    expect(report).not.toMatch(/NaN|warning:/);
  });

  it('judges server CPU per message against the baseline of the same run, round by round', () => {
    const report = formatReport(fixedResult());
    expect(report).toMatch(
      /stage4 \/ raw: .*server CPU per message 1\.05x \(rounds 1\.05–1\.05x; target <= 1x: not met\)/,
    );
    expect(report).toMatch(
      /stage5 \/ raw-sealed: .*server CPU per message 1\.01x \(rounds 1\.01–1\.01x; target <= 1\.1x: met\)/,
    );
    // Not judged against a baseline with other client work: no target, no verdict.
    expect(report).toMatch(/stage5 \/ raw: .*server CPU per message [\d.]+x \(rounds [^;)]*\) \[/);
  });

  it('leaves a round without a figure out of its median and range', () => {
    const result = fixedResult();
    result.bursts = result.bursts.map((m, i) =>
      i === 1 ? { ...m, quiet: { ...m.quiet, p99Ms: NaN }, stallMs: null } : m,
    );
    const report = formatReport(result);
    // Rounds 1 and 3 of the quiet p99 (2.88 and 3.52 ms); the stall of rounds 1 and 3.
    expect(report).toMatch(/\| no logins +\| [^|]+\| [^|]+\| 3\.20 \(2\.88–3\.52\) +\|/);
    expect(report).toMatch(/\| 8\.5 \(8\.5–8\.5\) +\|$/m);
  });

  it('calls an impossible CPU figure inconclusive, never met', () => {
    const result = fixedResult();
    // A server that used no CPU at all, or a round that delivered nothing.
    result.rounds = result.rounds.map((r) =>
      r.target === 'stage5' && r.paced
        ? { ...r, paced: { ...r.paced, serverCpuUsPerMessage: cpuMicrosPerMessage(0, 49_000) } }
        : r,
    );
    const stage5 = compare(result).find((c) => c.target === 'stage5' && c.judged)!;
    expect(stage5.cpuPerMessageVerdict?.outcome).toBe('inconclusive');
    expect(stage5.cpuPerMessageRounds).toEqual([]);
    expect(formatReport(result)).toMatch(
      /stage5 \/ raw-sealed: .*server CPU per message: inconclusive \(target <= 1\.1x\)/,
    );
    expect(cpuMicrosPerMessage(50, 0)).toBeNaN();
    expect(cpuMicrosPerMessage(-1, 1000)).toBeNaN();
    expect(cpuMicrosPerMessage(50, 1_000_000)).toBeCloseTo(0.5);
  });

  it('does not judge CPU per message from a paced round that fell behind its pace', () => {
    const result = fixedResult();
    const round = result.rounds.find((r) => r.target === 'stage6' && r.round === 2)!;
    round.paced = { ...round.paced!, sentPerSecond: PACE_KEPT * round.paced!.pace - 1 };
    const stage6 = compare(result).find((c) => c.target === 'stage6' && c.judged)!;
    expect(stage6.cpuPerMessageVerdict).toEqual({
      outcome: 'inconclusive',
      reason: 'only 2 of 3 rounds measured stage6 server CPU µs per delivered message (paced)',
    });
    // Kept to the share that counts, the round is judged again.
    round.paced = { ...round.paced, sentPerSecond: PACE_KEPT * round.paced.pace };
    expect(
      compare(result).find((c) => c.target === 'stage6' && c.judged)!.cpuPerMessageVerdict,
    ).toMatchObject({ outcome: 'not met' });
  });

  it('judges CPU per message from the paced rounds, and still shows the closed-loop one', () => {
    const result = fixedResult();
    const raw = result.rounds.find((r) => r.target === 'raw')!.paced!.serverCpuUsPerMessage;
    for (const r of result.rounds.filter((r) => r.target === 'stage4'))
      r.paced = { ...r.paced!, serverCpuUsPerMessage: 3 * raw };
    const stage4 = compare(result).find((c) => c.target === 'stage4' && c.judged)!;
    expect(stage4.cpuPerMessageRatio).toBeCloseTo(3);
    expect(stage4.cpuPerMessageVerdict?.outcome).toBe('not met');
    const report = formatReport(result);
    expect(report).toMatch(/^paced: 1 sender at 1000 msg\/s/m);
    // The closed-loop table keeps stage 4's own figure: 0.5 s of CPU per 1.9M messages.
    expect(report).toMatch(/^\| stage4 +\| 1,900,000 .*\| 0\.26 \(/m);
    expect(report).toMatch(/^\| stage4 +\| 1,000 .*\| 0\.75 \(/m);
  });
});

describe('the Markdown report', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the page and one SVG per chart, linked with relative paths', () => {
    const file = path.join(dir, 'benchmarks.md');
    const written = writeMarkdownReport(fixedResult(), file);
    expect(written).toEqual([
      file,
      ...CHART_NAMES.map((name) => path.join(dir, 'benchmarks', name)),
    ]);
    const page = readFileSync(file, 'utf8');
    expect(page).toMatch(/^---\ntitle: Benchmark results\n---\n\n# Benchmark results\n/);
    expect(page).toContain('generated by `npm run bench` (bench/run.ts)');
    expect(page).toContain('do not edit it by hand');
    expect(page).toContain('| CPU             | Test CPU <fixed>, 2 cores');
    expect(page).toContain('32768–60999 (28,232 ports)');
    expect(page).toMatch(/\| stage6 throughput ≥ 0\.6× raw-sealed +\| .* \| not met +\|/);
    expect(page).toMatch(/\| stage5 throughput ≥ 0\.7× raw-sealed +\| .* \| met +\|/);
    expect(page).not.toMatch(/NaN|quick/);
    const links = [...page.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toHaveLength(CHART_NAMES.length);
    for (const link of links) {
      expect(link).toMatch(/^benchmarks\/[\w-]+\.svg$/);
      expectWellFormed(readFileSync(path.join(dir, link), 'utf8'));
    }
  });

  it('removes the charts of scenarios that did not run, and marks a quick run', () => {
    const stale = path.join(dir, 'benchmarks', 'login-burst.svg');
    mkdirSync(path.dirname(stale), { recursive: true });
    writeFileSync(stale, '<svg/>');
    const result = fixedResult({
      bursts: [],
      options: { ...fixedResult().options, ...QUICK_OPTIONS },
    });
    writeMarkdownReport(result, path.join(dir, 'benchmarks.md'));
    expect(existsSync(stale)).toBe(false);
    const page = readFileSync(path.join(dir, 'benchmarks.md'), 'utf8');
    expect(page).not.toContain('login-burst.svg');
    expect(page).toContain('**This is a `--quick` smoke run**');
  });

  it('is laid out exactly as Prettier lays out Markdown', () => {
    const page = formatMarkdownReport(fixedResult(), buildCharts(fixedResult()), 'benchmarks');
    const prettier = path.join(REPO_ROOT, 'node_modules', '.bin', 'prettier');
    const formatted = execFileSync(prettier, ['--stdin-filepath', 'docs/benchmarks.md'], {
      cwd: REPO_ROOT,
      input: page,
      encoding: 'utf8',
    });
    expect(formatted).toBe(page);
  });
});

describe('the open-file limit of the processes the benchmark starts', () => {
  it('is raised from a low soft limit to the hard limit', () => {
    const target = raisedLimit();
    expect(target).toBeGreaterThan(256);
    // Start from a soft limit of 256, as a child of a shell that lowered it,
    // and let the wrapper raise it again before the command runs.
    const low = { soft: 256, hard: target };
    const wrapped = withOpenFileLimit('grep', ['Max open files', '/proc/self/limits'], target, low);
    expect(wrapped.command).not.toBe('grep');
    const shell = spawnSync(
      'sh',
      ['-c', 'ulimit -Sn 256 && exec "$@"', 'sh', wrapped.command, ...wrapped.args],
      { encoding: 'utf8' },
    );
    expect(shell.status).toBe(0);
    expect(Number(/^Max open files\s+(\d+)/.exec(shell.stdout)![1])).toBe(target);
  });

  it('leaves a command alone when its limit is already high enough', () => {
    expect(withOpenFileLimit('node', ['x'], 1000, { soft: 1000, hard: 2000 })).toEqual({
      command: 'node',
      args: ['x'],
    });
  });
});
