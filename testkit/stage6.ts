/**
 * A live stage 6 server for tests and tools: port 0, a fresh key, an
 * in-memory SQLite store, a low bcrypt cost and its JSON logs captured; raw
 * sockets that speak (or abuse) the protocol; and logins through the real
 * client-side handshake.
 *
 * Why here and not in `stage6-auth/test/`: the fuzzer, the docs tools and
 * stage 6's own tests all drive the server this way. A stage's test folder
 * belongs to that stage, and tooling that reached into it would break
 * whenever those tests are reorganised; `shared/` cannot hold it either,
 * since shared code never depends on a stage. So the kit sits beside the
 * tooling, depends only on stage 6's public modules and on shared/, and
 * stage 6's harness re-exports it.
 *
 * @module
 */
import net from 'node:net';
import { once } from 'node:events';
import { generateKey, sealText } from '../shared/src/crypto';
import { openUserStore, type UserStore } from '../shared/src/user-store';
import { LineReader } from '../shared/test/helpers';
import { captureLog, type LogCapture } from './log-capture';
import { connectAndLogIn, type LoggedIn } from '../stage6-auth/src/client-login';
import {
  credentialsAssociatedData,
  decodeServerFrame,
  type AuthFrame,
  type ServerFrame,
} from '../stage6-auth/src/messages';
import { startServer, type ChatServer, type ServerOptions } from '../stage6-auth/src/server';

/**
 * A running test server and what a test needs to drive and observe it: its
 * captured logs (every line, and waits for records) among them.
 */
export interface TestServer extends Omit<LogCapture, 'logger'> {
  server: ChatServer;
  port: number;
  key: Buffer;
  store: UserStore;
  /** Resolves at the next (future) disconnect of `username` in the server's logs. */
  nextDisconnect(username: string): Promise<void>;
  /** Ends a logged-in connection and waits until the server has let `username` go. */
  leave(socket: net.Socket, username: string): Promise<void>;
  /** Stops the server, and the store if the harness opened it. */
  close(): Promise<void>;
}

/**
 * Starts a stage 6 server for a test: port 0, a fresh random key, bcrypt
 * cost 4 (fast), an in-memory SQLite store unless one is given, debug logs
 * captured in memory.
 */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const key = options.key ?? generateKey();
  const ownStore = options.store === undefined;
  const store = options.store ?? (await openUserStore({ sqlitePath: ':memory:' }));
  const { logger, ...log } = captureLog();
  // Only records written from now on: the next disconnect of this user is
  // the one the caller is about to cause (one session per user).
  const nextDisconnect = async (username: string) => {
    await log.nextLog((r) => r.event === 'disconnect' && r.user === username);
  };
  const server = await startServer({
    bcryptCost: 4,
    hashWorkers: 2,
    ...options,
    port: 0,
    key,
    store,
    logger,
  });
  return {
    server,
    port: server.port,
    key,
    store,
    ...log,
    nextDisconnect,
    leave: async (socket, username) => {
      const gone = nextDisconnect(username);
      socket.end();
      await gone;
    },
    close: async () => {
      await server.close();
      if (ownStore) await store.close();
    },
  };
}

/** A raw connection that has received its `hello`. */
export interface RawConn {
  socket: net.Socket;
  /** The challenge from `hello`. */
  challenge: string;
  /** Every line received. */
  lines: LineReader;
  /** Waits for the next frame matching `match` (default: any), decoded. */
  frame(match?: (f: ServerFrame) => boolean): Promise<ServerFrame>;
  /** Writes one JSON object as a line. */
  sendJson(value: unknown): void;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/** Connects a raw socket (optionally from another loopback address) and waits for `hello`. */
export async function rawConnect(port: number, localAddress?: string): Promise<RawConn> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const lines = new LineReader(socket);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const frame = async (match: (f: ServerFrame) => boolean = () => true) => {
    const decode = (l: string) => {
      const d = decodeServerFrame(l);
      return d.ok ? d.frame : undefined;
    };
    const line = await lines.waitFor((l) => {
      const f = decode(l);
      return f !== undefined && match(f);
    });
    return decode(line)!;
  };
  const hello = await frame((f) => f.type === 'hello');
  return {
    socket,
    challenge: hello.type === 'hello' ? hello.challenge : '',
    lines,
    frame,
    sendJson: (value) => socket.write(JSON.stringify(value) + '\n'),
    closed,
  };
}

/**
 * Seals any JSON value as a credentials box, as a (possibly hostile) client
 * would. `adType` defaults to `type`; pass another to test the AD binding.
 */
export function sealCredentials(
  key: Uint8Array,
  type: AuthFrame['type'],
  credentials: unknown,
  adType: AuthFrame['type'] = type,
): string {
  return sealText(key, JSON.stringify(credentials), credentialsAssociatedData(adType));
}

/**
 * Sends a register or login with arbitrary credential values over a raw
 * connection, and returns the server's answer (welcome or error).
 */
export async function rawAuth(
  conn: RawConn,
  key: Uint8Array,
  type: AuthFrame['type'],
  username: unknown,
  password: unknown,
): Promise<ServerFrame> {
  const box = sealCredentials(key, type, { username, password, challenge: conn.challenge });
  conn.sendJson({ type, box });
  return conn.frame((f) => f.type === 'welcome' || f.type === 'error');
}

/** Logs in (or registers) with the real client-side handshake. */
export function logIn(
  t: TestServer,
  username: string,
  password: string,
  register = false,
): Promise<LoggedIn> {
  return connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    key: t.key,
    username,
    password,
    register,
  });
}
