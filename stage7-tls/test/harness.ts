/**
 * Stage 7 test harness: a real TLS server on port 0 with a fresh self-signed
 * identity, an in-memory SQLite store unless one is given, bcrypt cost 4,
 * a hasher whose jobs are counted, and JSON logs captured in memory; and
 * clients that pin its key through `--server-fingerprint`, as a script would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../../shared/src/certificate';
import { KnownServers } from '../../shared/src/known-servers';
import { TicketKeys } from '../../shared/src/login-ticket';
import { PasswordHasher } from '../../shared/src/passwords';
import { TicketStore } from '../../shared/src/ticket-store';
import type { PinTrust } from '../../shared/src/tls-client';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { LineReader } from '../../shared/test/helpers';
import { captureLog, type LogCapture } from '../../testkit/log-capture';
import { connectAndLogIn, type LoggedIn, type LoginOptions } from '../src/client-login';
import { ALPN_PROTOCOL, decodeServerFrame, type ServerFrame } from '../src/messages';
import { startServer, type ChatServer, type ServerOptions } from '../src/server';

/** The password every test user has unless told otherwise. */
export const PASSWORD = 'correct horse battery';

/** A running server and what a test needs to observe it, its captured logs among them. */
export interface TestServer extends Omit<LogCapture, 'logger'> {
  server: ChatServer;
  port: number;
  certificate: GeneratedCertificate;
  ticketKeys: TicketKeys;
  store: UserStore;
  /** Hashing jobs started (bcrypt hashes and compares). */
  hashJobs(): number;
  close(): Promise<void>;
}

/** Options of {@link startTestServer}: the server's own, plus a given identity. */
export type TestServerOptions = Partial<ServerOptions> & {
  certificate?: GeneratedCertificate;
  ticketKeys?: TicketKeys;
  /**
   * Called when a hashing job (a bcrypt hash or compare) has finished in its
   * worker, before the server gets the answer; if it returns a promise, the
   * answer waits for it. A test holds it to act while a password is, for
   * the server, still being checked (the job has run: no signal can
   * withdraw it any more).
   */
  hashDone?: () => Promise<void> | undefined;
};

/** Starts a stage 7 server for a test. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const certificate = options.certificate ?? (await generateCertificate());
  const ticketKeys = options.ticketKeys ?? TicketKeys.generate();
  const ownStore = options.store === undefined;
  const store = options.store ?? (await openUserStore({ sqlitePath: ':memory:' }));
  const hasher = await PasswordHasher.start({ cost: 4, workers: 1 });
  let jobs = 0;
  const { hashDone } = options;
  const answer = <T>(job: Promise<T>): Promise<T> =>
    hashDone === undefined ? job : job.then(async (result) => (await hashDone(), result));
  const reserve = hasher.reserve.bind(hasher);
  hasher.reserve = (request) => {
    const place = reserve(request);
    return {
      hash: (password) => (jobs++, answer(place.hash(password))),
      verify: (password, hash) => (jobs++, answer(place.verify(password, hash))),
      release: () => place.release(),
    };
  };
  const { logger, ...log } = captureLog();
  const server = await startServer({
    ...options,
    port: 0,
    identity: {
      chainPem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      ticketKeys,
    },
    store,
    hasher,
    logger,
  });
  return {
    server,
    port: server.port,
    certificate,
    ticketKeys,
    store,
    hashJobs: () => jobs,
    ...log,
    close: async () => {
      await server.close();
      await hasher.close();
      if (ownStore) await store.close();
    },
  };
}

/** A folder for known-servers and ticket files, removed by the caller. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stage7-'));
}

/** Trust by pin, with the server's fingerprint given as `--server-fingerprint` would. */
export function pinTo(dir: string, fingerprint?: string): PinTrust {
  return {
    knownServers: new KnownServers(path.join(dir, 'known_servers')),
    expectedFingerprint: fingerprint,
  };
}

/**
 * Logs `user` in (registering if asked) through the real client code,
 * pinning `t`'s key, with tickets kept in `dir`.
 */
export function logIn(
  t: TestServer,
  dir: string,
  user: string,
  extra: Partial<LoginOptions> = {},
): Promise<LoggedIn> {
  return connectAndLogIn({
    host: '127.0.0.1',
    port: t.port,
    trust: pinTo(dir, t.certificate.fingerprint),
    tickets: new TicketStore(path.join(dir, 'tickets')),
    username: user,
    password: () => Promise.resolve(PASSWORD),
    retries: 0,
    ...extra,
  });
}

/**
 * The ticket store {@link logIn} uses for `dir`, with a promise that settles
 * at its first save. The server sends `ticket` right after `welcome`, but it
 * may arrive in a later read, after the login has already resolved: a test
 * that needs the stored ticket waits for `saved`, never for the login alone.
 */
export function watchedTickets(dir: string): { store: TicketStore; saved: Promise<void> } {
  const store = new TicketStore(path.join(dir, 'tickets'));
  const save = store.save.bind(store);
  let settle!: () => void;
  const saved = new Promise<void>((resolve) => (settle = resolve));
  store.save = (server, username, ticket) => {
    const done = save(server, username, ticket);
    settle();
    return done;
  };
  return { store, saved };
}

/** A TLS connection that trusts anything (a test's raw client), with its frames. */
export interface RawTls {
  socket: tls.TLSSocket;
  /** The next frame from the server (undefined once it closed). */
  next(): Promise<ServerFrame | undefined>;
  /** Writes one JSON frame. */
  send(frame: object): void;
}

/** Opens a raw TLS 1.3 connection to a test server. */
export async function rawTls(port: number): Promise<RawTls> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    rejectUnauthorized: false, // a test client: it checks nothing on purpose
    ALPNProtocols: [ALPN_PROTOCOL],
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const lines = new LineReader(socket);
  return {
    socket,
    next: async () => {
      const line = await lines.next().catch(() => undefined);
      if (line === undefined) return undefined;
      const decoded = decodeServerFrame(line);
      if (!decoded.ok) throw decoded.error;
      return decoded.frame;
    },
    send: (frame) => socket.write(JSON.stringify(frame) + '\n'),
  };
}
