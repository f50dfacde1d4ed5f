/**
 * Stage 9 server tests: several real nodes (TLS servers on port 0) in this
 * process, joined through Redis under the test's own key prefix (or through
 * one in-process bus), sharing one in-memory user store and one identity as
 * the nodes of a deployment share theirs; and raw TLS clients that speak the
 * frames and record what they receive.
 */
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../../shared/src/certificate';
import { createLogger } from '../../shared/src/logger';
import { TicketKeys } from '../../shared/src/login-ticket';
import { PasswordHasher } from '../../shared/src/passwords';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { LineReader } from '../../shared/test/helpers';
import { ALPN_PROTOCOL, decodeServerFrame, type ServerFrame } from '../src/messages';
import { startServer, type ChatServer, type ServerOptions } from '../src/server';

/** Every test user's password. */
export const PASSWORD = 'correct horse battery';

/** Nodes started together, and what they share. */
export interface TestCluster {
  nodes: ChatServer[];
  store: UserStore;
  /** The nodes' ticket keys (a test can log in by `resume`, with no bcrypt). */
  ticketKeys: TicketKeys;
  /** Every node's log lines (JSON). */
  logLines: string[];
  close(): Promise<void>;
}

let certificate: GeneratedCertificate | undefined;

/**
 * Starts `count` nodes.
 *
 * @param options - the cluster's (redisUrl, keyPrefix, localCluster, limits…), for every node
 * @param perNode - options for node `i` only (e.g. its own Redis URL, through a proxy)
 */
export async function startCluster(
  count: number,
  options: Partial<ServerOptions> = {},
  perNode: (i: number) => Partial<ServerOptions> = () => ({}),
): Promise<TestCluster> {
  certificate ??= await generateCertificate();
  const ticketKeys = TicketKeys.generate();
  const store = await openUserStore({ sqlitePath: ':memory:' });
  const hasher = await PasswordHasher.start({ cost: 4, workers: 1 });
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l) => logLines.push(l) } });
  const nodes: ChatServer[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await startServer({
        ...options,
        ...perNode(i),
        port: 0,
        identity: {
          chainPem: certificate.certificatePem,
          privateKeyPem: certificate.privateKeyPem,
          ticketKeys,
        },
        store,
        hasher,
        logger,
      }),
    );
  }
  return {
    nodes,
    store,
    ticketKeys,
    logLines,
    close: async () => {
      await Promise.all(nodes.map((node) => node.close()));
      await hasher.close();
      await store.close();
    },
  };
}

/** A raw TLS client and every frame it received. */
export interface Client {
  socket: tls.TLSSocket;
  /** Frames received so far, in order. */
  frames: ServerFrame[];
  /** Resolves with the first frame (past or future) that matches. */
  waitFor(match: (frame: ServerFrame) => boolean): Promise<ServerFrame>;
  /** Writes one JSON frame. */
  send(frame: object): void;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
}

/** Opens a TLS connection to a node (a test client: it trusts any certificate). */
export async function connectTo(port: number): Promise<Client> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    rejectUnauthorized: false, // a test client, checking nothing on purpose
    ALPNProtocols: [ALPN_PROTOCOL],
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const frames: ServerFrame[] = [];
  const waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  const lines = new LineReader(socket);
  const closed = (async () => {
    for (;;) {
      const line = await lines.next().catch(() => undefined);
      if (line === undefined) return;
      const decoded = decodeServerFrame(line);
      if (!decoded.ok) continue; // never expected: a waiter then times out
      frames.push(decoded.frame);
      for (const waiter of [...waiters]) {
        if (waiter.match(decoded.frame)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(decoded.frame);
        }
      }
    }
  })();
  return {
    socket,
    frames,
    waitFor: (match) => {
      const found = frames.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    send: (frame) => socket.write(JSON.stringify(frame) + '\n'),
    closed,
  };
}

/**
 * Connects and registers (or logs in) `user`, waiting for the welcome.
 *
 * @throws Error with the error frame's code if refused
 */
export async function join(
  port: number,
  user: string,
  how: 'register' | 'login' = 'register',
): Promise<Client> {
  const client = await connectTo(port);
  client.send({ type: how, user, password: PASSWORD });
  const first = await client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
  if (first.type === 'error') throw new Error(first.code);
  return client;
}

/** Chat texts `client` received from `sender`, in order. */
export function chatFrom(client: Client, sender: string): string[] {
  return client.frames.flatMap((f) => (f.type === 'chat' && f.from === sender ? [f.text] : []));
}
