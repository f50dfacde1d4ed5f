/**
 * Driving real processes for a transcript, in a fixed order.
 *
 * Each program runs through `npm run --silent`, as a learner starts it, with
 * piped stdio. A {@link Terminal} records what a learner's terminal would show:
 * the command, what was typed, and the program's output lines. Output is only
 * recorded when the script asks for it, one expected line at a time
 * (`see(...)`), and a line is taken from whichever stream (stdout or stderr)
 * has it next. So the transcript's order is the order written in the script,
 * never the order in which two pipes happened to be read, and a line that
 * does not come fails the run (after a deadline) instead of hanging it.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { LineDecoder } from '../shared/src/framing';
import type { Normaliser } from './transcript-format';

/** How long one expected line may take before the run fails (a busy machine is slow). */
const STEP_DEADLINE_MS = 45_000;

/** An expected line: exact text, a substring (`~text`), or a pattern. */
export type Expect = string | RegExp;

function matches(line: string, expect: Expect): boolean {
  if (typeof expect !== 'string') return expect.test(line);
  return expect.startsWith('~') ? line.includes(expect.slice(1)) : line === expect;
}

/** The lines of one stream, consumed in order. */
class Lines {
  readonly all: string[] = [];
  cursor = 0;
  ended = false;
  private listeners = new Set<() => void>();

  constructor(stream: Readable) {
    const decoder = new LineDecoder({ maxFrameBytes: 1 << 20 });
    stream.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        this.all.push(frame.ok ? frame.text : `<${frame.error.code}>`);
      }
      this.notify();
    });
    const end = () => {
      this.ended = true;
      this.notify();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.on('error', () => {});
  }

  head(): string | undefined {
    return this.all[this.cursor];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Something a terminal shows output of: a process, or a raw TCP client. */
interface Source {
  streams: Lines[];
}

/** A process: usually `npm run --silent SCRIPT -- ARGS`, or `npx tsx FILE` for a demo. */
export class Proc implements Source {
  readonly child: ChildProcess;
  readonly streams: Lines[];
  readonly exit: Promise<number | string>;

  constructor(root: string, command: string[], env: NodeJS.ProcessEnv) {
    const [program, ...args] = command;
    this.child = spawn(program ?? 'npm', args, {
      cwd: root,
      env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, so a signal reaches npm's children too
    });
    this.child.stdin?.on('error', () => {});
    this.streams = [new Lines(this.child.stdout!), new Lines(this.child.stderr!)];
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    });
  }

  /** Writes one line to stdin. */
  write(line: string): void {
    this.child.stdin?.write(line + '\n');
  }

  /** Closes stdin (Ctrl-D on a terminal). */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** Sends a signal to the whole process group. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    // Once npm has exited its group id may be reused: never signal it again.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      /* already gone */
    }
  }
}

/** A raw TCP client, standing in for `nc` (which not every machine has). */
export class RawClient implements Source {
  readonly streams: Lines[];
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    this.streams = [new Lines(socket)];
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Connects, resolving once the connection is established. */
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Sends bytes as they are (a line needs its own `\n`). */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }
}

/** One terminal of the recorded session. */
export class Terminal {
  /** The normalised lines recorded so far. */
  readonly lines: string[] = [];
  private source: Source | null = null;

  constructor(
    readonly name: string,
    private readonly norm: Normaliser,
  ) {}

  /** Records a line the learner typed or a remark (normalised like output). */
  show(text: string): void {
    this.lines.push(this.norm.line(text));
  }

  /**
   * Output lines shown from now on come from `source`; `only` picks streams
   * (0 = stdout, 1 = stderr), for a server whose log belongs in its own section.
   */
  attach<T extends Source>(source: T, only?: number[]): T {
    this.source =
      only === undefined ? source : { streams: source.streams.filter((_s, i) => only.includes(i)) };
    return source;
  }

  /**
   * Waits for each expected line in turn, taking it from whichever stream has
   * it as its next unread line, and records it. Returns the raw lines.
   */
  async see(...expected: Expect[]): Promise<string[]> {
    const found: string[] = [];
    for (const expect of expected) found.push(await this.seeOne(expect));
    return found;
  }

  private seeOne(expect: Expect): Promise<string> {
    const source = this.source;
    if (source === null) throw new Error(`${this.name}: nothing attached`);
    return new Promise((resolve, reject) => {
      const unsubscribe: (() => void)[] = [];
      const done = (error: Error | null, line?: string) => {
        clearTimeout(timer);
        for (const u of unsubscribe) u();
        if (error !== null) reject(error);
        else resolve(line ?? '');
      };
      const check = () => {
        for (const stream of source.streams) {
          const head = stream.head();
          if (head !== undefined && matches(head, expect)) {
            stream.cursor++;
            this.lines.push(this.norm.line(head));
            done(null, head);
            return;
          }
        }
        if (source.streams.every((s) => s.ended && s.head() === undefined)) {
          done(this.failure(expect, 'the output ended'));
        }
      };
      const timer = setTimeout(
        () => done(this.failure(expect, `nothing matched for ${STEP_DEADLINE_MS} ms`)),
        STEP_DEADLINE_MS,
      );
      for (const stream of source.streams) unsubscribe.push(stream.onChange(check));
      check();
    });
  }

  /** Waits for the output to end and fails if any line was not expected by the script. */
  async end(): Promise<void> {
    const source = this.source;
    if (source === null) return;
    await this.ended();
    const unread = source.streams.flatMap((s) => s.all.slice(s.cursor));
    if (unread.length > 0) {
      throw new Error(`${this.name}: output the script did not expect:\n${unread.join('\n')}`);
    }
  }

  /** Waits for the output to end and drops what the script did not ask for. */
  async endIgnoringRest(): Promise<void> {
    await this.ended();
    for (const s of this.source?.streams ?? []) s.cursor = s.all.length;
  }

  /**
   * Waits for the output to end and records every remaining line, stdout first:
   * for a program that prints and exits, with nothing else running.
   */
  async endShowingAll(): Promise<void> {
    await this.ended();
    for (const s of this.source?.streams ?? []) {
      for (const line of s.all.slice(s.cursor)) this.lines.push(this.norm.line(line));
      s.cursor = s.all.length;
    }
  }

  private async ended(): Promise<void> {
    await Promise.all(
      (this.source?.streams ?? []).map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.ended) return resolve();
            const off = s.onChange(() => {
              if (s.ended) {
                off();
                resolve();
              }
            });
          }),
      ),
    );
  }

  private failure(expect: Expect, why: string): Error {
    const heads = (this.source?.streams ?? []).map((s) => JSON.stringify(s.head() ?? null));
    return new Error(
      `${this.name}: waiting for ${String(expect)}: ${why}; next unread lines: ${heads.join(', ')}\n` +
        `recorded so far:\n${this.lines.join('\n')}`,
    );
  }
}
