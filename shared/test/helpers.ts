/**
 * Test helpers shared by every stage's tests: real sockets and real processes,
 * and ways to wait for what they print instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LineDecoder } from '../src/framing';

/** The repository root, where package.json and its npm scripts live. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Opens a TCP connection and resolves once it is established. */
export async function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host });
  await once(socket, 'connect');
  return socket;
}

type Waiter = {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (e: Error) => void;
};

/**
 * Collects the lines a stream produces and lets a test await them.
 * Lines are kept in `lines` (everything seen so far) and consumed in order by
 * `next()`; `waitFor()` skips ahead to the first line that matches.
 */
export class LineReader {
  /** Every line received so far, in order. */
  readonly lines: string[] = [];
  /** Resolves when the stream ends or closes. */
  readonly ended: Promise<void>;
  private cursor = 0;
  private waiters: Waiter[] = [];
  private done = false;

  constructor(stream: Readable, maxFrameBytes = 1 << 20) {
    const decoder = new LineDecoder({ maxFrameBytes });
    stream.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        this.lines.push(frame.ok ? frame.text : `<${frame.error.code}>`);
      }
      this.serve();
    });
    this.ended = new Promise((resolve) => {
      const finish = () => {
        this.done = true;
        this.serve();
        resolve();
      };
      stream.once('end', finish);
      stream.once('close', finish);
    });
    stream.on('error', () => {
      /* a reset is an ordinary end for a test reader */
    });
  }

  /** The next line not yet consumed. Rejects if the stream ends first. */
  next(): Promise<string> {
    return this.waitFor(() => true);
  }

  /**
   * Skips to the first unconsumed line that matches, and consumes it.
   * Rejects, listing what was seen, if the stream ends first.
   */
  waitFor(match: RegExp | string | ((line: string) => boolean)): Promise<string> {
    const test =
      typeof match === 'function'
        ? match
        : typeof match === 'string'
          ? (l: string) => l.includes(match)
          : (l: string) => match.test(l);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match: test, resolve, reject });
      this.serve();
    });
  }

  private serve(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0]!;
      let found = -1;
      for (let i = this.cursor; i < this.lines.length; i++) {
        if (waiter.match(this.lines[i]!)) {
          found = i;
          break;
        }
      }
      if (found === -1) {
        if (!this.done) return;
        this.waiters.shift();
        waiter.reject(new Error(`stream ended; lines seen:\n${this.lines.join('\n')}`));
        continue;
      }
      this.cursor = found + 1;
      this.waiters.shift();
      waiter.resolve(this.lines[found]!);
    }
  }
}

/** A process started through `npm run`, as a user would start it. */
export interface ScriptProcess {
  child: ChildProcess;
  stdout: LineReader;
  stderr: LineReader;
  /** Resolves with the exit code (or the signal's name) when the process exits. */
  exit: Promise<number | string>;
  /** Writes a line to the process's stdin. */
  write(line: string): void;
  /** Sends a signal to npm and everything it started. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `npm run SCRIPT -- ARGS` in its own process group, with piped stdio
 * (so stdin is not a terminal: the scriptable mode of every client).
 */
export function runScript(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): ScriptProcess {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    stdout: new LineReader(child.stdout!),
    stderr: new LineReader(child.stderr!),
    exit,
    write: (line) => child.stdin!.write(line + '\n'),
    kill: (signal = 'SIGTERM') => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    },
  };
}

/** The npm scripts one test file starts, and a scratch folder for them. */
export interface ScriptSuite {
  /** Starts `npm run SCRIPT -- ARGS` with the suite's environment plus `env`. */
  run(script: string, args?: string[], env?: NodeJS.ProcessEnv): ScriptProcess;
  /** A path inside the suite's scratch folder (made before the first test). */
  file(...parts: string[]): string;
}

/**
 * Call at the top level of a test file that starts npm scripts. After the
 * file's last test it kills every process `run` started and waits for each
 * to exit: a child that has not exited yet keeps its process and pipe
 * handles open in the jest worker, which then "fails to exit gracefully".
 * Then it removes the scratch folder.
 *
 * @param name - the scratch folder's prefix, e.g. `stage7-process`
 * @param env - added to every script's environment, e.g. `{ LOG_LEVEL: 'warn' }`
 */
export function scriptSuite(name: string, env: NodeJS.ProcessEnv = {}): ScriptSuite {
  const started: ScriptProcess[] = [];
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  });
  afterAll(async () => {
    for (const proc of started) proc.kill('SIGKILL');
    await Promise.all(started.map((proc) => proc.exit));
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    run(script, args = [], extra = {}) {
      const proc = runScript(script, args, { ...env, ...extra });
      started.push(proc);
      return proc;
    },
    file(...parts) {
      if (dir === undefined)
        throw new Error('scriptSuite: the scratch folder exists once tests run');
      return path.join(dir, ...parts);
    },
  };
}

/** Waits for a script's `listening on HOST:PORT` line and returns the port. */
export async function listeningPort(proc: ScriptProcess): Promise<number> {
  const line = await proc.stdout.waitFor(/listening on /);
  return Number(/:(\d+)\s*$/.exec(line)![1]);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same base64url text in another spelling: the last character with its
 * lowest bit flipped. When the text ends in unused bits (a 32-byte MAC is 43
 * characters, the last carrying 2 unused bits) it decodes to the same bytes,
 * so a check that must refuse it proves it compares the text, not the bytes.
 */
export function respellLastCharacter(text: string): string {
  return text.slice(0, -1) + BASE64URL[BASE64URL.indexOf(text.at(-1)!) ^ 1]!;
}
