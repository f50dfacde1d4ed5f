/**
 * The server under test as a real child process: started from its entry file
 * with `--port 0`, found through the `listening on HOST:PORT` line it prints,
 * watched line by line on stdout and stderr, asked for its memory over IPC,
 * and stopped with SIGTERM, the way a service manager stops it.
 *
 * It runs as `node --expose-gc --require tsx/cjs --require bench/server-probe.ts
 * ENTRY`: `tsx/cjs` compiles the TypeScript in the main thread (no loader
 * thread with its own heap), and the benchmark's probe answers memory questions
 * (one probe for both, so the soak and the benchmark measure memory the same way).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MEMORY_REQUEST, type MemoryReport } from '../bench/memory-report';

/** The repository root: the server runs from there, as `npm run stageN` does. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** How the child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  /** The exit code (null if a signal killed it). */
  code: number | null;
  /** The signal that killed it (null if it exited). */
  signal: NodeJS.Signals | null;
}

/** A running server process. */
export class ServerChild {
  /** Where it listens. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** Resolves when the process exits, however it exits. */
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    endpoint: { host: string; port: number },
  ) {
    this.host = endpoint.host;
    this.port = endpoint.port;
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        this.exit = { code, signal };
        resolve(this.exit);
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        done(child.exitCode, child.signalCode);
      } else child.once('exit', done);
    });
  }

  /**
   * Starts a server and waits for its `listening on` line.
   *
   * @param entryFile - the server's bin file, relative to the repository root
   * @param args - arguments after `--host 127.0.0.1 --port 0`
   * @param onLine - receives every line the server writes, from its first
   * @param env - environment variables to set (or, with `''`, to empty) for the server
   * @throws Error with the server's last output if it exits or stays silent for 60 s
   */
  static async start(
    entryFile: string,
    args: readonly string[],
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
    env: Record<string, string> = {},
  ): Promise<ServerChild> {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--require',
        'tsx/cjs',
        '--require',
        path.join(__dirname, '..', 'bench', 'server-probe.ts'),
        entryFile,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        ...args,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    // Read both pipes for the server's whole life: a server that logs every
    // connection would block once a pipe buffer filled up.
    let tail = '';
    const watch = (stream: 'stdout' | 'stderr') =>
      createInterface({ input: child[stream]! }).on('line', (line) => {
        tail = (tail + line + '\n').slice(-2000);
        onLine(stream, line);
      });
    const stdout = watch('stdout');
    watch('stderr');
    const endpoint = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      // A start-up guard, not a wait: reaching it means the server is broken.
      const timer = setTimeout(() => fail('printed no "listening on" line within 60 s'), 60_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${entryFile} ${why}\n${tail}`));
      };
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
      stdout.on('line', (line) => {
        const match = /listening on (\S+):(\d+)\s*$/.exec(line);
        if (!match) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ host: match[1]!, port: Number(match[2]) });
      });
    });
    return new ServerChild(child, endpoint);
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid!;
  }

  /** True while the process has not exited. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /**
   * Forces full GCs in the server and returns its memory.
   *
   * @returns the reading, or null if the server did not answer within 30 s
   */
  memory(): Promise<MemoryReport | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), 30_000);
      const onMessage = (message: MemoryReport) => {
        if (message?.type === MEMORY_REQUEST) done(message);
      };
      const done = (reading: MemoryReport | null) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(reading);
      };
      this.child.on('message', onMessage);
      if (this.child.connected) this.child.send({ type: MEMORY_REQUEST });
      else done(null);
    });
  }

  /**
   * Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`.
   *
   * @param graceMs - how long a clean shutdown may take
   * @returns how it exited (a SIGKILL shows as `signal: 'SIGKILL'`)
   */
  async stop(graceMs = 20_000): Promise<ChildExit> {
    if (this.exit) return this.exit;
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill('SIGTERM');
    const exit = await this.exited;
    clearTimeout(killer);
    return exit;
  }

  /** Kills the process at once (cleanup after a failure). */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}
