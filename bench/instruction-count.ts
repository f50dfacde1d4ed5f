/**
 * Counting a server's instructions per delivered message under callgrind,
 * with a lock-step load, and the table of the counts (the command is
 * bench/instructions.ts, which says why).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { readProfile, type Profile } from './callgrind';
import { encodePayload, parsePayload, type Payload } from './payload';
import { type RunFiles } from './run-files';
import { launchServer, type ServerProcess } from './server-process';
import type { LoadClient, Target } from './target';
import { targetNamed } from './targets';

/** One target's count. */
export interface InstructionCount {
  /** The target's name. */
  target: string;
  /** Messages counted. */
  messages: number;
  /** Deliveries counted in each window: messages × receivers. */
  deliveries: number;
  /** The profile of each counted window, one after the other (see {@link countInstructions}). */
  windows: Profile[];
}

/** How long a server under callgrind may take to print `listening on`. */
const START_SECONDS = 180;
/** The payload's size, as the benchmark's default. */
const PAYLOAD_BYTES = 64;

/** A room of load clients that sends one message at a time and waits for every delivery. */
class LockStep {
  private waiting = 0;
  private seq = 0;
  private resolve: ((all: boolean) => void) | undefined;
  private readonly parsed: Payload = { sender: 0, seq: 0, sentAtUs: 0 };
  readonly clients: LoadClient[] = [];

  /** What each client calls with a payload it received. */
  readonly onPayload = (text: string): void => {
    if (!parsePayload(text, this.parsed) || this.parsed.seq !== this.seq) return;
    if (--this.waiting === 0) this.resolve?.(true);
  };

  /** Sends one message; true once every other client has it, false after `timeoutMs`. */
  async one(timeoutMs = 60_000): Promise<boolean> {
    this.seq++;
    this.waiting = this.clients.length - 1;
    const all = new Promise<boolean>((resolve) => (this.resolve = resolve));
    const timer = setTimeout(() => this.resolve?.(false), timeoutMs);
    this.clients[0]!.send(encodePayload(0, this.seq, PAYLOAD_BYTES));
    const ok = await all;
    clearTimeout(timer);
    return ok;
  }

  /** Sends `n` messages, one after another. */
  async run(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      if (!(await this.one())) throw new Error('a message was not delivered to everyone');
    }
  }
}

// Asks callgrind to zero (-z) or dump (-d) its counters. Callgrind looks for
// the request only while the server runs code, so messages go out until it
// has answered; the counted part is off by at most those one or two
// messages in thousands.
async function control(server: ServerProcess, room: LockStep, flag: '-z' | '-d'): Promise<void> {
  const child = spawn('callgrind_control', [flag, String(server.pid)], { stdio: 'ignore' });
  let code: number | null | undefined;
  const exited = once(child, 'exit').then(([status]) => (code = status as number | null));
  while (code === undefined) {
    await room.one();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  if (code !== 0) throw new Error(`callgrind_control ${flag} ${server.pid} failed (${code})`);
}

/**
 * Counts one target's instructions per delivery, under callgrind, in
 * `windows` windows of `messages` messages one after the other. One window
 * can be an outlier: V8's major garbage collection comes every so many
 * messages, and a window it falls into reads well above the others
 * (bench/README.md has figures). The table shows the median and the range.
 *
 * @param target - the server to count
 * @param files - the run's files (its key; the dumps are written there)
 * @param options - lock-step messages before counting and in each window, the windows, the room's size
 */
export async function countInstructions(
  target: Target,
  files: RunFiles,
  options: { warmup: number; messages: number; windows: number; clients: number },
): Promise<InstructionCount> {
  const dump = path.join(files.dir, `callgrind-${target.name}.out`);
  const valgrind = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${dump}`];
  const format = ['--dump-instr=yes', '--compress-pos=no', '--compress-strings=no'];
  const server = await launchServer(
    target,
    target.serverArgs?.(files) ?? [],
    { NODE_OPTIONS: '--perf-basic-prof' }, // names for compiled JavaScript (callgrind.ts)
    { command: [...valgrind, ...format], startSeconds: START_SECONDS },
  );
  const perfMap = `/tmp/perf-${server.pid}.map`;
  const room = new LockStep();
  try {
    try {
      // One client at a time, not Crowd's batches of 50: under callgrind the
      // server is slow enough that 50 stage 6 logins at once outlast the
      // client's 5 s wait for `hello`.
      for (let index = 0; index < options.clients; index++) {
        const events = { onPayload: room.onPayload };
        room.clients.push(await target.openClient(server.endpoint, events, { files, index }));
      }
      // A client can be connected before the server has accepted it (see
      // crowd.ts): wait until one message reaches everyone.
      for (let attempt = 0; !(await room.one(10_000)); attempt++) {
        if (attempt === 5) throw new Error(`${target.name}: the room never formed`);
      }
      await room.run(options.warmup);
      await control(server, room, '-z');
      for (let window = 0; window < options.windows; window++) {
        await room.run(options.messages);
        await control(server, room, '-d'); // a dump zeroes the counters too
      }
    } finally {
      for (const client of room.clients) client.close();
      await server.stop();
    }
    const map = existsSync(perfMap) ? perfMap : null;
    const windows = Array.from({ length: options.windows }, (_, i) =>
      readProfile(`${dump}.${i + 1}`, map),
    );
    const deliveries = options.messages * (options.clients - 1);
    return { target: target.name, messages: options.messages, deliveries, windows };
  } finally {
    // The map and the dumps (tens of MB) go at once, not with the run's files.
    rmSync(perfMap, { force: true });
    for (const file of readdirSync(files.dir)) {
      if (file.startsWith('callgrind-')) rmSync(path.join(files.dir, file));
    }
  }
}

// A count's windows, from fewest instructions to most, and its median window.
function sortedWindows(count: InstructionCount): { sorted: Profile[]; median: Profile } {
  const sorted = [...count.windows].sort((a, b) => a.total - b.total);
  return { sorted, median: sorted[Math.floor((sorted.length - 1) / 2)]! };
}

/**
 * The table the command prints: instructions per delivery in the median
 * window, the range of the windows, and each target's ratio to its
 * baseline when the baseline was counted too (a ratio within one run, the
 * only kind worth reading: see bench/README.md).
 *
 * @param counts - the targets' counts, in the order to print them
 * @param functions - how many of the median window's costliest functions to list (0: none)
 */
export function formatCounts(counts: InstructionCount[], functions: number): string {
  const perDelivery = new Map(
    counts.map((c) => [c.target, sortedWindows(c).median.total / c.deliveries]),
  );
  const lines = ['target         instructions/delivery   baseline     ratio     windows'];
  for (const c of counts) {
    const own = perDelivery.get(c.target)!;
    const baseline = targetNamed(c.target).baseline ?? 'raw';
    const base = c.target === baseline ? undefined : perDelivery.get(baseline);
    const ratio = base === undefined ? '' : `${(own / base).toFixed(3)}×`;
    const against = base === undefined ? '' : baseline;
    const { sorted } = sortedWindows(c);
    const range = [sorted[0]!, sorted.at(-1)!].map((w) => (w.total / c.deliveries).toFixed(0));
    lines.push(
      `${c.target.padEnd(15)}${own.toFixed(0).padStart(20)}   ${against.padEnd(12)} ${ratio.padEnd(9)} ${range.join('–')}`,
    );
  }
  for (const c of functions > 0 ? counts : []) {
    lines.push('', `${c.target}: the ${functions} costliest functions, instructions per delivery`);
    const { byFunction } = sortedWindows(c).median;
    const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, functions);
    for (const [name, n] of top) {
      lines.push(`${(n / c.deliveries).toFixed(1).padStart(10)}  ${name.slice(0, 110)}`);
    }
  }
  return lines.join('\n');
}
