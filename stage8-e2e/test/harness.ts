/**
 * Stage 8 test harness: a real TLS server on port 0 (fresh certificate,
 * SQLite in a file the test can read byte for byte, bcrypt cost 4, logs
 * kept in memory), and members built from the real client pieces
 * (`connectAndLogIn`, `E2eSession`, `RoomClient`) with no terminal, so a
 * test can look inside them. Every byte each member writes to the server
 * and reads from it is recorded: together, the server's whole view of the
 * traffic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCertificate, type GeneratedCertificate } from '../../shared/src/certificate';
import { E2eSession } from '../../shared/src/e2e-session';
import { encodeKeyBundle, generateIdentity, type Identity } from '../../shared/src/identity-keys';
import { KnownMembers } from '../../shared/src/known-members';
import type { OpenedCounters } from '../../shared/src/opened-counters';
import { createLogger } from '../../shared/src/logger';
import { KnownServers } from '../../shared/src/known-servers';
import { TicketKeys } from '../../shared/src/login-ticket';
import { PasswordHasher } from '../../shared/src/passwords';
import type { Decoded } from '../../shared/src/protocol';
import { openUserKeyStore, type UserKeyStore } from '../../shared/src/user-store';
import { connectAndLogIn, type LoggedIn, type ShownFrame } from '../src/client-login';
import { RoomClient } from '../src/room-client';
import { startServer, type ChatServer, type ServerOptions } from '../src/server';

/** The password every test user has. */
export const PASSWORD = 'correct horse battery';

/** A running server, its database file, and everything it saw. */
export interface TestServer {
  server: ChatServer;
  port: number;
  certificate: GeneratedCertificate;
  store: UserKeyStore;
  dir: string;
  /** The SQLite file (and its -wal), as bytes. */
  databaseBytes(): Buffer;
  /** Every JSON log line. */
  logLines: string[];
  /** Resolves with the first log record (parsed) that matches, once it has been written. */
  waitForLog(match: (record: LogRecord) => boolean): Promise<LogRecord>;
  /** Every byte any member wrote to or read from the server, as text. */
  traffic: string[];
  close(): Promise<void>;
}

/** One server log line, parsed. */
export type LogRecord = Record<string, unknown>;

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /**
   * Stands between the server and its store, e.g. to hold a query until the
   * test lets it go. The harness's `store` stays the real one.
   */
  wrapStore?: (store: UserKeyStore) => UserKeyStore;
  /**
   * Called when a hashing job (a bcrypt hash or compare) has finished in its
   * worker, before the server gets the answer; if it returns a promise, the
   * answer waits for it. A test holds it to act while a password is, for
   * the server, still being checked (the job has run: no signal can
   * withdraw it any more).
   */
  hashDone?: () => Promise<void> | undefined;
  /** Server settings to change (limits, deadlines). */
  server?: Partial<ServerOptions>;
}

/** Starts a stage 8 server for a test: on a SQLite file of its own, or on `url` (MySQL). */
export async function startTestServer(
  url?: string,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage8-'));
  const certificate = await generateCertificate();
  const dbFile = path.join(dir, 'chat.sqlite');
  const store = await openUserKeyStore({ url, sqlitePath: dbFile });
  const hasher = await PasswordHasher.start({ cost: 4, workers: 1 });
  const { hashDone } = options;
  if (hashDone !== undefined) {
    const answer = <T>(job: Promise<T>): Promise<T> =>
      job.then(async (result) => (await hashDone(), result));
    const reserve = hasher.reserve.bind(hasher);
    hasher.reserve = (request) => {
      const place = reserve(request);
      return {
        hash: (password) => answer(place.hash(password)),
        verify: (password, hash) => answer(place.verify(password, hash)),
        release: () => place.release(),
      };
    };
  }
  const logLines: string[] = [];
  const logWaiters = new Set<() => void>();
  const logger = createLogger({
    level: 'debug',
    destination: {
      write: (line: string) => {
        logLines.push(line);
        for (const wake of [...logWaiters]) wake();
      },
    },
  });
  const waitForLog = (match: (record: LogRecord) => boolean): Promise<LogRecord> =>
    new Promise((resolve) => {
      const check = () => {
        for (const line of logLines) {
          const record = JSON.parse(line) as LogRecord;
          if (match(record)) {
            logWaiters.delete(check);
            return resolve(record);
          }
        }
      };
      logWaiters.add(check);
      check();
    });
  const server = await startServer({
    ...options.server,
    port: 0,
    identity: {
      chainPem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      ticketKeys: TicketKeys.generate(),
    },
    store: options.wrapStore?.(store) ?? store,
    hasher,
    logger,
  });
  return {
    server,
    port: server.port,
    certificate,
    store,
    dir,
    databaseBytes: () =>
      Buffer.concat(
        [dbFile, `${dbFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)),
      ),
    logLines,
    waitForLog,
    traffic: [],
    close: async () => {
      await server.close();
      await hasher.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One member: the real client pieces, and what it has shown. */
export interface TestMember {
  name: string;
  identity: Identity;
  login: LoggedIn;
  room: RoomClient;
  chat: string[];
  notices: string[];
  warnings: string[];
  /** Every frame that reached this member (after `intercept`). */
  frames: ShownFrame[];
  /** Resolves once `lines` (chat, notices or warnings) has a line matching `pattern`. */
  waitFor(kind: 'chat' | 'notices' | 'warnings', pattern: RegExp | string): Promise<string>;
  /**
   * Resolves with the first frame that matches, once it has arrived. Frames
   * sent after `welcome` (such as `member`) may come in a later read than
   * `welcome` itself, so a test waits for them instead of looking right away.
   */
  waitForFrame(match: (frame: ShownFrame) => boolean): Promise<ShownFrame>;
  /** Says `/quit`'s part: closes the connection and waits for the close. */
  leave(): Promise<void>;
}

/** Options of {@link join}. */
export interface JoinOptions {
  /** Register (a new account), or log in. Default: register. */
  register?: boolean;
  /** The keys to use; default new ones. */
  identity?: Identity;
  /** Known members (TOFU); default in memory. */
  known?: KnownMembers;
  /** Where earlier sessions stopped reading (opened-counters.ts); default in memory. */
  opened?: OpenedCounters;
  /**
   * A malicious server's part, for the tests: sees each decoded frame before
   * the member does and returns the frames to deliver instead.
   */
  intercept?: (frame: ShownFrame) => ShownFrame[];
}

/** Logs `name` in to `t` and joins the room, end to end. */
export async function join(
  t: TestServer,
  name: string,
  options: JoinOptions = {},
): Promise<TestMember> {
  const identity = options.identity ?? generateIdentity(name);
  const login = await connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    trust: {
      knownServers: new KnownServers(path.join(t.dir, `${name}.known_servers`)),
      expectedFingerprint: t.certificate.fingerprint,
    },
    username: name,
    register: options.register ?? true,
    keys: encodeKeyBundle(identity),
    password: () => Promise.resolve(PASSWORD),
    retries: 0,
  });
  // The server's view: what this member writes, and what it reads.
  const write = login.socket.write.bind(login.socket) as (chunk: Buffer | string) => boolean;
  login.socket.write = ((chunk: Buffer | string) => {
    t.traffic.push(chunk.toString());
    return write(chunk);
  }) as typeof login.socket.write;
  login.socket.on('data', (chunk: Buffer) => t.traffic.push(chunk.toString()));

  const lines = { chat: [] as string[], notices: [] as string[], warnings: [] as string[] };
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const push = (kind: keyof typeof lines) => (line: string) => {
    lines[kind].push(line);
    wake();
  };
  const room = new RoomClient(
    login.socket,
    identity,
    new E2eSession({
      identity,
      known: options.known ?? KnownMembers.inMemory(),
      opened: options.opened,
      firstEpoch: Date.now(),
    }),
    { chat: push('chat'), notice: push('notices'), warning: push('warnings') },
  );
  const frames: ShownFrame[] = [];
  login.frames.listen((decoded: Decoded<ShownFrame>) => {
    if (!decoded.ok) return void lines.warnings.push(`! ${decoded.error.code}`);
    for (const frame of options.intercept?.(decoded.frame) ?? [decoded.frame]) {
      frames.push(frame);
      room.receive(frame);
    }
    wake();
  });
  const until = <T>(find: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        waiters.splice(waiters.indexOf(check), 1);
        resolve(found);
      };
      waiters.push(check);
      check();
    });
  return {
    name,
    identity,
    login,
    room,
    ...lines,
    frames,
    waitFor: (kind, pattern) =>
      until(() =>
        lines[kind].find((l) =>
          typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l),
        ),
      ),
    waitForFrame: (match) => until(() => frames.find(match)),
    leave: () =>
      new Promise((resolve) => {
        login.socket.once('close', () => resolve());
        login.socket.end();
      }),
  };
}
