/**
 * What TLS costs the stage 7 server: `npx tsx bench/tls-costs.ts` prints
 * three measurements.
 *
 * 1. **Handshakes per second**, full and resumed, client and server in this
 *    one process on one core (so each figure includes both ends' work: the
 *    server's share is roughly half).
 * 2. **Memory per idle connection**, TLS against plain TCP: a child process
 *    holds N idle connections of each kind (no application data), and
 *    reports its heap, external memory and RSS after a garbage collection.
 * 3. **Ticket reconnects after a restart**: accounts with stored
 *    tickets reconnect at once to a freshly started stage 7 server (the real
 *    client code: pin check, `resume`, `welcome`), and the time until all are
 *    back is measured, with the number of bcrypt jobs (there should be none).
 *    All clients come from 127.0.0.1, so the per-address limits (meant to
 *    stop one address from doing exactly this) are lifted; everything else
 *    runs at the shipped defaults. Clients and server share this process,
 *    which makes the figure pessimistic.
 *
 * Read the ratios, not the third digit: this machine runs other things too.
 *
 * @module
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../shared/src/certificate';
import { KnownServers, serverName } from '../shared/src/known-servers';
import { LoginTickets, TicketKeys } from '../shared/src/login-ticket';
import { PasswordHasher } from '../shared/src/passwords';
import { TicketStore } from '../shared/src/ticket-store';
import { TlsSessionCache } from '../shared/src/tls-client';
import { openUserStore } from '../shared/src/user-store';
import { connectAndLogIn } from '../stage7-tls/src/client-login';
import { startServer } from '../stage7-tls/src/server';
import { format, table } from './report-format';

const IDLE_CONNECTIONS = 1000;
const HANDSHAKES = 300;

async function handshakesPerSecond(cert: GeneratedCertificate): Promise<string[][]> {
  const server = tls.createServer(
    { cert: cert.certificatePem, key: cert.privateKeyPem, minVersion: 'TLSv1.3' },
    // The client hangs up: a server that ended at once would close before
    // its session ticket reached the client, and nothing could resume.
    (socket) => socket.on('error', () => {}).resume(),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let session: Buffer | undefined;
  const one = (resume: boolean) =>
    new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false, // a benchmark: the key is checked elsewhere
        session: resume ? session : undefined,
      });
      // A full handshake ends when its ticket arrives; a resumed one at once.
      socket.on('session', (s: Buffer) => {
        session = s;
        socket.end();
      });
      socket.once('secureConnect', () => {
        const reused = socket.isSessionReused();
        socket.on('close', () => resolve(reused));
        socket.resume();
        if (reused) socket.end();
      });
      socket.once('error', reject);
    });
  const rows: string[][] = [];
  for (const resume of [false, true]) {
    await one(false); // warm up, and a session to resume
    let reused = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < HANDSHAKES; i++) if (await one(resume)) reused++;
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / HANDSHAKES;
    rows.push([
      resume ? `resumed (${reused} of ${HANDSHAKES} reused)` : 'full (ECDSA P-256)',
      format(ms, 2),
      format(1000 / ms, 0),
    ]);
  }
  server.close();
  return rows;
}

interface ChildReport {
  connections: number;
  heapUsed: number;
  external: number;
  rss: number;
}

/** The child: a server of one kind that holds connections and reports its memory. */
async function childServer(kind: string): Promise<void> {
  const cert = JSON.parse(process.env.BENCH_CERT ?? '{}') as GeneratedCertificate;
  const held = new Set<net.Socket>();
  const hold = (socket: net.Socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  };
  const server =
    kind === 'tls'
      ? tls.createServer(
          { cert: cert.certificatePem, key: cert.privateKeyPem, minVersion: 'TLSv1.3' },
          hold,
        )
      : net.createServer(hold);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send!({ port: (server.address() as net.AddressInfo).port });
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, external, rss } = process.memoryUsage();
    const report: ChildReport = { connections: held.size, heapUsed, external, rss };
    process.send!(report);
  });
}

async function memoryPerConnection(cert: GeneratedCertificate, kind: string): Promise<number[]> {
  const child = fork(__filename, ['--child', kind], {
    execArgv: ['--require', 'tsx/cjs', '--expose-gc'],
    env: { ...process.env, BENCH_CERT: JSON.stringify(cert) },
  });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const ask = async () => {
    child.send('measure');
    const [report] = (await once(child, 'message')) as [ChildReport];
    return report;
  };
  const before = await ask();
  const clients: net.Socket[] = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    const socket =
      kind === 'tls'
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
        : net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await once(socket, kind === 'tls' ? 'secureConnect' : 'connect');
    clients.push(socket);
  }
  let after = await ask();
  while (after.connections < IDLE_CONNECTIONS) after = await ask();
  for (const socket of clients) socket.destroy();
  child.kill();
  const per = (key: keyof ChildReport) => (after[key] - before[key]) / IDLE_CONNECTIONS / 1024;
  return [per('heapUsed'), per('external'), per('rss')];
}

async function ticketReconnects(
  cert: GeneratedCertificate,
  count: number,
  presenceLimit: number,
): Promise<string[][]> {
  const reconnects = count;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
  const users = await openUserStore({ sqlitePath: ':memory:' });
  const ticketKeys = TicketKeys.generate();
  const hasher = await PasswordHasher.start(); // the shipped cost (12)
  let bcryptJobs = 0;
  const reserve = hasher.reserve.bind(hasher);
  hasher.reserve = (request) => (bcryptJobs++, reserve(request));
  try {
    // Yesterday's logins: accounts (one real hash, shared: not what is measured)
    // and the tickets their clients kept.
    const hash = await hasher.hash('a password nobody types');
    const issuer = new LoginTickets({ keys: ticketKeys });
    const server = await startServer({
      identity: { chainPem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, ticketKeys },
      store: users,
      hasher,
      maxPreLoginPerAddress: reconnects,
      hashJobsPerAddress: reconnects,
      rateLimits: { perIp: { capacity: reconnects, refillMs: 1 } },
      presenceLimit,
    });
    const tickets = new TicketStore(path.join(dir, 'tickets'));
    const name = serverName('127.0.0.1', server.port);
    const known = new KnownServers(path.join(dir, 'known_servers'));
    known.remember(name, cert.fingerprint);
    for (let i = 0; i < reconnects; i++) {
      await users.createUser(`u${i}`, hash);
      tickets.save(name, `u${i}`, issuer.issue(`u${i}`).ticket);
    }
    bcryptJobs = 0;
    const start = performance.now();
    const sessions = await Promise.all(
      Array.from({ length: reconnects }, (_, i) =>
        connectAndLogIn({
          host: '127.0.0.1',
          port: server.port,
          trust: { knownServers: known },
          sessions: new TlsSessionCache(),
          tickets,
          username: `u${i}`,
          password: () => Promise.reject(new Error('a ticket login asked for the password')),
        }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const byTicket = sessions.filter((s) => s.by === 'ticket').length;
    for (const s of sessions) s.socket.destroy();
    await server.close();
    return [
      ['clients back', `${byTicket} of ${reconnects} (by ticket)`],
      ['time until all are back', `${format(seconds, 2)} s (goal: 30 s)`],
      ['bcrypt jobs', String(bcryptJobs)],
      [
        'the same with passwords (estimate)',
        `${format((reconnects * hasher.averageJobMs) / hasher.workers / 1000, 0)} s ` +
          `(${reconnects} × ${format(hasher.averageJobMs, 0)} ms on ${hasher.workers} worker(s))`,
      ],
    ];
  } finally {
    await hasher.close();
    await users.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const cert = await generateCertificate();
  console.log(`stage 7 TLS costs, Node ${process.version}, ${os.cpus().length} CPU(s)\n`);
  console.log(`TLS 1.3 handshakes, one after another, both ends in one process:\n`);
  console.log(
    table([['handshake', 'ms each', 'per second'], ...(await handshakesPerSecond(cert))]),
  );
  console.log(`\nMemory per idle connection (${IDLE_CONNECTIONS} held by a child server), KiB:\n`);
  const rows: string[][] = [];
  for (const kind of ['raw', 'tls']) {
    const [heap, external, rss] = await memoryPerConnection(cert, kind);
    rows.push([kind === 'tls' ? 'TLS 1.3 (TLSSocket)' : 'plain TCP (net.Socket)',
      format(heap!, 1), format(external!, 1), format(rss!, 1)]); // prettier-ignore
  }
  console.log(table([['server', 'heap', 'external', 'RSS'], ...rows]));
  // With join notices on (the default up to 1,000 online), every arrival is
  // a frame to everyone already back: n²/2 frames, which the clients here
  // decode on the same core. 500 shows that cost; 1,000 without notices
  // shows what the tickets themselves cost.
  for (const [count, presence] of [
    [500, 1000],
    [1000, 0],
  ] as const) {
    const notices = presence === 0 ? 'join notices off' : 'join notices on (the default)';
    console.log(`\n${count} logged-in users reconnecting at once after a restart, ${notices}:\n`);
    console.log(table([['', ''], ...(await ticketReconnects(cert, count, presence))]));
  }
}

if (process.argv[2] === '--child') {
  void childServer(process.argv[3] ?? 'raw');
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
