/**
 * The cases every client of stages 6 to 8 must survive against a server
 * that does not play fair: a hostile one (one whose key the person pinned,
 * in stages 7 and 8; anyone in the middle, in stage 6) or a broken one. The
 * clients are each stage's own code, so each stage runs these cases through
 * a small adapter; each case was reproduced against the clients before
 * their fix:
 *
 * - a refusal's text carried terminal escapes into the error at exit;
 * - a server that pings and never reads grew the client's memory without
 *   end, one pong per ping;
 * - a server that took the login and said nothing kept the client waiting
 *   for ever, while every line piped into it was kept in memory.
 *
 * @module
 */
import { once } from 'node:events';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ChatErrorCode } from '../shared/src/errors';
import type { BucketLimit } from '../shared/src/rate-limit';
import type { FakeServer, OnLine } from './fake-server';

/** The streams a client under test reads and writes. */
export interface ClientStreams {
  /** Its input: the password line, then the lines "typed". */
  input: PassThrough;
  /** Its output. */
  output: PassThrough;
  /** Its error output. */
  errorOutput: PassThrough;
}

/** What the cases need from a stage: its fake server, frames, login and client. */
export interface HostileServerAdapter<S extends FakeServer> {
  /** Starts the stage's fake server (TLS with its ALPN id, or stage 6's plain TCP and `hello`). */
  start(onLine: OnLine): Promise<S>;
  /** A `welcome` for alice, alone in the room, in the stage's encoding. */
  welcome: string | Buffer;
  /** An `error` frame in the stage's encoding. */
  refusal(code: ChatErrorCode, message: string): string | Buffer;
  /**
   * Logs alice in with the stage's own login code (trust files, if any, in
   * `dir`), and listens to (and drops) the frames that follow.
   */
  logIn(server: S, dir: string, answerTimeoutMs?: number): Promise<net.Socket>;
  /** Runs the stage's client as alice with `--password-stdin` on `streams`. */
  runClient(
    server: S,
    dir: string,
    streams: ClientStreams,
    serverBudget: BucketLimit,
  ): Promise<number>;
  /** Whether a line the client sent is its login (or registration). */
  isLogin(line: string): boolean;
  /**
   * What names a chat message in a line the client sent, or `undefined` for
   * any other frame.
   */
  chatOf(line: string): string | undefined;
  /** What {@link HostileServerAdapter.chatOf} gives for the n-th line typed (from 0). */
  nthChat(n: number): string;
}

/** A test's temporary directory, and the stage's fake server to start. */
export interface HostileServerContext<S extends FakeServer> {
  /** A fresh directory for this test (known servers, key files). */
  readonly dir: string;
  /** Starts the fake server, which hands it each line the client sends; closed after the test. */
  serve(onLine: OnLine): Promise<S>;
}

/**
 * Declares the cases (Jest tests) for one stage's client, with a fresh
 * directory and fake server for each test of the file (removed and closed
 * after it).
 *
 * @param stage - the adapter to that stage's code
 * @returns the context, for the stage's own tests in the same file
 */
export function hostileServerCases<S extends FakeServer>(
  stage: HostileServerAdapter<S>,
): HostileServerContext<S> {
  let dir = '';
  let fake: S | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-server-'));
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const context: HostileServerContext<S> = {
    get dir() {
      return dir;
    },
    serve: async (onLine) => (fake = await stage.start(onLine)),
  };

  test("a refusal's terminal escapes are kept out of the client's error", async () => {
    const server = await context.serve((socket) => {
      const message = 'x\x1b[2J\x1b]0;pwned\x07 FAKE: your password leaked\nerror: run this';
      socket.end(stage.refusal('AUTH_FAILED', message));
    });
    const refused = await stage.logIn(server, context.dir).catch((err: Error) => err);
    expect(refused).toMatchObject({ code: 'AUTH_FAILED' });
    expect((refused as Error).message).toBe(
      'x\\x1b[2J\\x1b]0;pwned\\x07 FAKE: your password leaked\\x0aerror: run this',
    );
  });

  test('a server that pings and never reads: pongs do not pile up in the client', async () => {
    const PINGS_BYTES = 16 * 1024 * 1024;
    const ping = Buffer.from('{"type":"ping"}\n'.repeat(4096));
    const server = await context.serve((socket) => {
      socket.write(stage.welcome);
      socket.pause(); // reads nothing more: every pong stays with the client
      let sent = 0;
      const pump = () => {
        while (sent < PINGS_BYTES) {
          sent += ping.length;
          if (!socket.write(ping)) return;
        }
      };
      socket.on('drain', pump);
      pump();
    });
    const socket = await stage.logIn(server, context.dir);
    let mostQueued = 0;
    await new Promise<void>((resolve) => {
      // bytesRead, not the chunks seen here: the login may have read the
      // first pings with its welcome.
      socket.on('data', () => {
        mostQueued = Math.max(mostQueued, socket.writableLength);
        if (socket.bytesRead >= PINGS_BYTES) resolve();
      });
    });
    // A million pings read; at most one pong waits (before: megabytes).
    expect(mostQueued).toBeLessThanOrEqual(64);
    socket.destroy();
  });

  test('a server that takes the login and says nothing: LOGIN_TIMEOUT, not a wait for ever', async () => {
    const server = await context.serve(() => {});
    await expect(stage.logIn(server, context.dir, 200)).rejects.toMatchObject({
      code: 'LOGIN_TIMEOUT',
      message: `no answer to the login from 127.0.0.1:${server.port} within 0.2 s`,
    });
  });

  test('lines piped in while the login waits: reading pauses at the limit, and none is lost', async () => {
    const LINES = 2500;
    let loggingIn!: (socket: net.Socket) => void;
    const loginSeen = new Promise<net.Socket>((resolve) => (loggingIn = resolve));
    const chat: string[] = [];
    const server = await context.serve((socket, line) => {
      if (stage.isLogin(line)) loggingIn(socket);
      const said = stage.chatOf(line);
      if (said !== undefined) chat.push(said);
    });
    const streams = {
      input: new PassThrough(),
      output: new PassThrough(),
      errorOutput: new PassThrough(),
    };
    const paused = once(streams.input, 'pause');
    const client = stage.runClient(server, context.dir, streams, { capacity: LINES, refillMs: 1 });
    try {
      streams.input.write('alice-password\n');
      for (let i = 0; i < LINES; i++) streams.input.write(`line ${i}\n`);
      const socket = await loginSeen;
      await paused; // the server has not answered: the client stopped reading
      socket.write(stage.welcome);
      streams.input.end();
      await client;
      expect(chat).toEqual(Array.from({ length: LINES }, (_, n) => stage.nthChat(n)));
    } finally {
      await client.catch(() => {});
    }
  });

  return context;
}
