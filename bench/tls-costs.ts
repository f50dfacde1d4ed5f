/**
 * What TLS costs the stage 7 server: `npx tsx bench/tls-costs.ts` prints
 * four measurements (name some of `handshakes memory reconnects chat` to run
 * only those). Servers and clients run in separate processes, so a
 * server's figures are its own work (the machine's other cores may still be
 * busy with other things: read the ratios, not the third digit).
 *
 * 1. **Handshakes per second**, full and resumed: a child process is a TLS
 *    server with stage 7's settings and nothing else; this process opens
 *    connections to it, 16 at a time. The child's CPU time per handshake
 *    says how many one core of a server can do.
 * 2. **Memory per idle connection**, TLS against plain TCP: a child process
 *    holds N idle connections of each kind (no application data), and
 *    reports its heap, external memory and RSS after a garbage collection.
 * 3. **Ticket reconnects after a restart**: 1,000 accounts with stored
 *    tickets reconnect at once to a freshly started stage 7 server in this
 *    process, from two load child processes (the real client code: pin
 *    check, `resume`, `welcome`, with no TLS session to resume). It reports
 *    the time until all are back, the bcrypt jobs (there should be none), the
 *    join notices each client received, and what passwords would have cost.
 *    All clients come from 127.0.0.1, so the per-address limits (meant to
 *    stop one address from doing exactly this) are lifted; everything else
 *    runs at the shipped defaults, join notices included. The same burst
 *    with notices off is the baseline.
 * 4. **Chat latency during a burst of handshakes**: four logged-in clients
 *    in one child chat with each other (each message's round trip through
 *    the server, timed on the child's one clock) while the server is idle,
 *    then while another child opens 500 new TLS connections at once, with
 *    the server's handshake gate (`handshake-gate.ts`) off, then on. The
 *    server's event-loop delay and CPU are measured in this process.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../shared/src/certificate';
import { KnownServers, serverName } from '../shared/src/known-servers';
import { LoginTickets, TicketKeys } from '../shared/src/login-ticket';
import { PasswordHasher } from '../shared/src/passwords';
import { TicketStore } from '../shared/src/ticket-store';
import { TlsSessionCache } from '../shared/src/tls-client';
import { openUserStore } from '../shared/src/user-store';
import { connectAndLogIn, type LoggedIn } from '../stage7-tls/src/client-login';
import { ALPN_PROTOCOL, encodeClientFrame } from '../stage7-tls/src/messages';
import { PRESENCE_INTERVAL_MS } from '../shared/src/presence-notices';
import { DEFAULT_HANDSHAKES_PER_TURN } from '../stage7-tls/src/handshake-gate';
import { startServer, type ChatServer, type ServerOptions } from '../stage7-tls/src/server';
import { format, table } from './report-format';

const IDLE_CONNECTIONS = 1000;
const HANDSHAKES = 1000;
const IN_FLIGHT = 16;
const RECONNECTS = 1000;
const LOAD_CHILDREN = 2;
const BURST = 500;
const CHATTERS = 4;
const CHAT_EVERY_MS = 20;

// ─── children ────────────────────────────────────────────────────────────

interface HoldReport {
  connections: number;
  heapUsed: number;
  external: number;
  rss: number;
  /** CPU time used so far, user + system, in ms. */
  cpuMs: number;
}

/** A child: a bare server of one kind that holds connections and reports on itself. */
async function holdChild(kind: string): Promise<void> {
  const cert = JSON.parse(process.env.BENCH_CERT ?? '{}') as GeneratedCertificate;
  const held = new Set<net.Socket>();
  const hold = (socket: net.Socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
    socket.resume();
  };
  const server =
    kind === 'tls'
      ? tls.createServer(
          {
            cert: cert.certificatePem,
            key: cert.privateKeyPem,
            minVersion: 'TLSv1.3',
            ALPNProtocols: [ALPN_PROTOCOL],
          },
          hold,
        )
      : net.createServer(hold);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send!({ port: (server.address() as net.AddressInfo).port });
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, external, rss } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    const report: HoldReport = {
      connections: held.size,
      heapUsed,
      external,
      rss,
      cpuMs: (user + system) / 1000,
    };
    process.send!(report);
  });
}

/** What the parent asks a load child to do; each command gets one reply. */
type LoadCommand =
  | { do: 'reconnect'; port: number; dir: string; users: string[] }
  | { do: 'count' }
  | { do: 'chat-start'; port: number; dir: string; users: string[] }
  | { do: 'chat-stop' }
  | { do: 'burst'; port: number; count: number }
  | { do: 'close' };

interface ReconnectReply {
  back: number;
  byTicket: number;
}
interface CountReply {
  clients: number;
  noticeFrames: number;
  namesSeen: number;
}
interface BurstReply {
  opened: number;
  ms: number;
}

/** A child: clients of a stage 7 server, driven by the parent's commands. */
function loadChild(): void {
  const sessions: LoggedIn[] = [];
  let noticeFrames = 0;
  let namesSeen = 0;
  let latencies: number[] = [];
  let chatTimer: NodeJS.Timeout | undefined;
  const held: tls.TLSSocket[] = [];

  const logIn = (port: number, dir: string, users: string[]) => {
    const known = new KnownServers(path.join(dir, 'known_servers'));
    const tickets = new TicketStore(path.join(dir, 'tickets'));
    return Promise.all(
      users.map((username) =>
        connectAndLogIn({
          host: '127.0.0.1',
          port,
          trust: { knownServers: known },
          sessions: new TlsSessionCache(), // no TLS session from before the restart
          tickets,
          username,
          password: () => Promise.reject(new Error('a ticket login asked for the password')),
        }),
      ),
    );
  };

  const handle = async (command: LoadCommand): Promise<unknown> => {
    switch (command.do) {
      case 'reconnect': {
        const back = await logIn(command.port, command.dir, command.users);
        for (const session of back) {
          sessions.push(session);
          session.frames.listen((decoded) => {
            if (!decoded.ok) return;
            const frame = decoded.frame;
            if (frame.type === 'joined' || frame.type === 'left') {
              noticeFrames++;
              namesSeen++;
            } else if (frame.type === 'presence') {
              noticeFrames++;
              namesSeen += frame.joined.length;
            }
          });
        }
        const reply: ReconnectReply = {
          back: back.length,
          byTicket: back.filter((s) => s.by === 'ticket').length,
        };
        return reply;
      }
      case 'count': {
        const reply: CountReply = { clients: sessions.length, noticeFrames, namesSeen };
        return reply;
      }
      case 'chat-start': {
        if (sessions.length === 0) {
          const chatters = await logIn(command.port, command.dir, command.users);
          for (const session of chatters) {
            sessions.push(session);
            session.frames.listen((decoded) => {
              if (decoded.ok && decoded.frame.type === 'chat') {
                latencies.push(performance.now() - Number(decoded.frame.text));
              }
            });
          }
        }
        latencies = [];
        let next = 0;
        chatTimer = setInterval(() => {
          const text = String(performance.now());
          sessions[next++ % sessions.length]!.socket.write(
            encodeClientFrame({ type: 'chat', text }),
          );
        }, CHAT_EVERY_MS / sessions.length);
        return {};
      }
      case 'chat-stop':
        clearInterval(chatTimer);
        await sleep(200); // the last messages' echoes
        return latencies;
      case 'burst': {
        const start = performance.now();
        const sockets = Array.from({ length: command.count }, () =>
          tls.connect({
            host: '127.0.0.1',
            port: command.port,
            rejectUnauthorized: false, // a benchmark: the pin is checked elsewhere
            ALPNProtocols: [ALPN_PROTOCOL],
          }),
        );
        const results = await Promise.all(
          sockets.map(
            (socket) =>
              new Promise<boolean>((resolve) => {
                socket.once('secureConnect', () => resolve(true));
                socket.on('error', () => resolve(false));
              }),
          ),
        );
        const reply: BurstReply = {
          opened: results.filter(Boolean).length,
          ms: performance.now() - start,
        };
        held.push(...sockets); // closed by 'close', after the measurement
        return reply;
      }
      case 'close':
        for (const session of sessions.splice(0)) session.socket.destroy();
        for (const socket of held.splice(0)) socket.destroy();
        return {};
    }
  };
  process.on('message', (command: LoadCommand) => {
    void handle(command).then(
      (reply) => process.send!(reply),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
  process.send!({ ready: true });
}

/** Forks this file as a child in `role`; resolves with its first message. */
async function forkChild<T>(
  role: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<[ChildProcess, T]> {
  const child = fork(__filename, ['--child', ...role], {
    execArgv: ['--require', 'tsx/cjs', '--expose-gc'],
    env: { ...process.env, ...env },
  });
  const [first] = (await once(child, 'message')) as [T];
  return [child, first];
}

/** Sends a command to a child and waits for its answer. */
async function ask<T>(child: ChildProcess, command: unknown): Promise<T> {
  child.send(command as object);
  const [reply] = (await once(child, 'message')) as [T & { error?: string }];
  if (reply.error !== undefined) throw new Error(`child: ${reply.error}`);
  return reply;
}

// ─── 1. handshakes per second ────────────────────────────────────────────

async function handshakesPerSecond(cert: GeneratedCertificate): Promise<string[][]> {
  const [child, { port }] = await forkChild<{ port: number }>(['hold', 'tls'], {
    BENCH_CERT: JSON.stringify(cert),
  });
  let session: Buffer | undefined;
  const one = (resume: boolean) =>
    new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false, // a benchmark: the key is checked elsewhere
        ALPNProtocols: [ALPN_PROTOCOL],
        session: resume ? session : undefined,
      });
      // A full handshake ends when its ticket arrives (kept for the resumed
      // ones); a resumed one at once.
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
  try {
    for (const resume of [false, true]) {
      await one(false); // warm up, and a session to resume
      const before = await ask<HoldReport>(child, 'report');
      let reused = 0;
      let started = 0;
      const start = performance.now();
      const lane = async () => {
        while (started++ < HANDSHAKES) if (await one(resume)) reused++;
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const seconds = (performance.now() - start) / 1000;
      const after = await ask<HoldReport>(child, 'report');
      const cpuMs = (after.cpuMs - before.cpuMs) / HANDSHAKES;
      rows.push([
        resume ? `resumed (${reused} of ${HANDSHAKES} reused)` : 'full (ECDSA P-256)',
        format(HANDSHAKES / seconds, 0),
        format(cpuMs, 2),
        format(1000 / cpuMs, 0),
      ]);
    }
  } finally {
    child.kill();
  }
  return rows;
}

// ─── 2. memory per idle connection ───────────────────────────────────────

async function memoryPerConnection(cert: GeneratedCertificate, kind: string): Promise<number[]> {
  const [child, { port }] = await forkChild<{ port: number }>(['hold', kind], {
    BENCH_CERT: JSON.stringify(cert),
  });
  const before = await ask<HoldReport>(child, 'report');
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
  let after = await ask<HoldReport>(child, 'report');
  while (after.connections < IDLE_CONNECTIONS) after = await ask<HoldReport>(child, 'report');
  for (const socket of clients) socket.destroy();
  child.kill();
  const per = (key: keyof HoldReport) => (after[key] - before[key]) / IDLE_CONNECTIONS / 1024;
  return [per('heapUsed'), per('external'), per('rss')];
}

// ─── a stage 7 server with accounts and stored tickets ──────────────────

interface BenchServer {
  server: ChatServer;
  /** Holds known_servers (the pin) and tickets/ for the clients. */
  dir: string;
  hasher: PasswordHasher;
  bcryptJobs(): number;
  close(): Promise<void>;
}

/**
 * A stage 7 server at the shipped defaults, except the per-address limits
 * (every client is 127.0.0.1) and `presenceLimit` when given; `users` have
 * accounts and, in `dir`, the tickets of yesterday's password logins.
 */
async function benchServer(
  cert: GeneratedCertificate,
  users: string[],
  tuning: Pick<ServerOptions, 'presenceLimit' | 'handshakesPerTurn'> = {},
): Promise<BenchServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
  const store = await openUserStore({ sqlitePath: ':memory:' });
  const ticketKeys = TicketKeys.generate();
  const hasher = await PasswordHasher.start(); // the shipped cost (12)
  let jobs = 0;
  const reserve = hasher.reserve.bind(hasher);
  hasher.reserve = (request) => (jobs++, reserve(request));
  // One real hash, shared by every account: not what is measured.
  const hash = await hasher.hash('a password nobody types');
  const issuer = new LoginTickets({ keys: ticketKeys });
  const many = users.length + BURST;
  const server = await startServer({
    identity: { chainPem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, ticketKeys },
    store,
    hasher,
    maxPreLoginPerAddress: many,
    hashJobsPerAddress: many,
    rateLimits: { perIp: { capacity: many, refillMs: 1 } },
    ...tuning,
  });
  const name = serverName('127.0.0.1', server.port);
  new KnownServers(path.join(dir, 'known_servers')).remember(name, cert.fingerprint);
  const tickets = new TicketStore(path.join(dir, 'tickets'));
  for (const user of users) {
    await store.createUser(user, hash);
    tickets.save(name, user, issuer.issue(user).ticket);
  }
  jobs = 0;
  return {
    server,
    dir,
    hasher,
    bcryptJobs: () => jobs,
    close: async () => {
      await server.close();
      await hasher.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ─── 3. ticket reconnects after a restart ────────────────────────────────

async function ticketReconnects(
  cert: GeneratedCertificate,
  presenceLimit: number | undefined,
): Promise<string[][]> {
  const users = Array.from({ length: RECONNECTS }, (_, i) => `u${i}`);
  const bench = await benchServer(cert, users, { presenceLimit });
  const children = await Promise.all(
    Array.from({ length: LOAD_CHILDREN }, () => forkChild<unknown>(['load'])),
  );
  try {
    const share = Math.ceil(RECONNECTS / LOAD_CHILDREN);
    const start = performance.now();
    const replies = await Promise.all(
      children.map(([child], i) =>
        ask<ReconnectReply>(child, {
          do: 'reconnect',
          port: bench.server.port,
          dir: bench.dir,
          users: users.slice(i * share, (i + 1) * share),
        }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const jobs = bench.bcryptJobs();
    // Let the last notices arrive: two quiet intervals, then count.
    await sleep(4 * PRESENCE_INTERVAL_MS);
    const counts = await Promise.all(
      children.map(([child]) => ask<CountReply>(child, { do: 'count' })),
    );
    const sum = (f: (c: CountReply) => number) => counts.reduce((a, c) => a + f(c), 0);
    const byTicket = replies.reduce((a, r) => a + r.byTicket, 0);
    const { hasher } = bench;
    return [
      ['clients back', `${byTicket} of ${RECONNECTS} (by ticket)`],
      ['time until all are back', `${format(seconds, 2)} s (goal: 30 s)`],
      ['bcrypt jobs', String(jobs)],
      [
        'notice frames per client',
        `${format(sum((c) => c.noticeFrames) / RECONNECTS, 1)} ` +
          `(naming ${format(sum((c) => c.namesSeen) / RECONNECTS, 0)} arrivals)`,
      ],
      [
        'the same with passwords (estimate)',
        `${format((RECONNECTS * hasher.averageJobMs) / hasher.workers / 1000, 0)} s ` +
          `(${RECONNECTS} × ${format(hasher.averageJobMs, 0)} ms on ${hasher.workers} worker(s))`,
      ],
    ];
  } finally {
    for (const [child] of children) child.kill();
    await bench.close();
  }
}

// ─── 4. chat latency while handshakes arrive ─────────────────────────────

function latencyRow(
  what: string,
  samples: number[],
  loop: ReturnType<typeof monitorEventLoopDelay>,
  cpuMs: number,
  seconds: number,
): string[] {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return [
    what,
    String(sorted.length),
    format(at(0.5), 1),
    format(at(0.99), 1),
    format(sorted[sorted.length - 1] ?? NaN, 1),
    format(loop.percentile(99) / 1e6, 1),
    format(loop.max / 1e6, 1),
    `${format((cpuMs / (seconds * 1000)) * 100, 0)} %`,
  ];
}

async function chatDuringBurst(
  cert: GeneratedCertificate,
  handshakesPerTurn: number,
  withIdle: boolean,
): Promise<string[][]> {
  const users = Array.from({ length: CHATTERS }, (_, i) => `chatter${i}`);
  const bench = await benchServer(cert, users, { handshakesPerTurn });
  const [[chat], [burst]] = await Promise.all([forkChild(['load']), forkChild(['load'])]);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const phase = async (what: string, during: () => Promise<string>): Promise<string[]> => {
    await ask(chat, { do: 'chat-start', port: bench.server.port, dir: bench.dir, users });
    loop.reset();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const label = await during();
    const seconds = (performance.now() - start) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const cpuMs = (user + system) / 1000;
    const samples = await ask<number[]>(chat, { do: 'chat-stop' });
    return latencyRow(`${what}${label}`, samples, loop, cpuMs, seconds);
  };
  const gate =
    handshakesPerTurn === DEFAULT_HANDSHAKES_PER_TURN
      ? `${handshakesPerTurn} handshakes per turn (shipped)`
      : 'handshakes not gated';
  try {
    const rows: string[][] = [];
    if (withIdle) rows.push(await phase('idle', async () => (await sleep(2000), '')));
    rows.push(
      await phase(`${BURST} new TLS connections, ${gate}`, async () => {
        await sleep(200);
        const done = await ask<BurstReply>(burst, {
          do: 'burst',
          port: bench.server.port,
          count: BURST,
        });
        await sleep(200);
        return ` (all ${done.opened} in ${format(done.ms / 1000, 2)} s)`;
      }),
    );
    return rows;
  } finally {
    loop.disable();
    chat.kill();
    burst.kill();
    await bench.close();
  }
}

// ─── the report ──────────────────────────────────────────────────────────

async function main(only: string[]): Promise<void> {
  const wanted = (section: string) => only.length === 0 || only.includes(section);
  const cert = await generateCertificate();
  console.log(`stage 7 TLS costs, Node ${process.version}, ${os.cpus().length} CPU(s)\n`);
  if (wanted('handshakes')) await printHandshakes(cert);
  if (wanted('memory')) await printMemory(cert);
  if (wanted('reconnects')) await printReconnects(cert);
  if (wanted('chat')) await printChat(cert);
}

async function printHandshakes(cert: GeneratedCertificate): Promise<void> {
  console.log(
    `TLS 1.3 handshakes, server alone in a child process, ${IN_FLIGHT} at a time from this one:\n`,
  );
  console.log(
    table([
      ['handshake', 'per second', 'server CPU ms each', 'per second per server core'],
      ...(await handshakesPerSecond(cert)),
    ]),
  );
}

async function printMemory(cert: GeneratedCertificate): Promise<void> {
  console.log(`\nMemory per idle connection (${IDLE_CONNECTIONS} held by a child server), KiB:\n`);
  const rows: string[][] = [];
  for (const kind of ['raw', 'tls']) {
    const [heap, external, rss] = await memoryPerConnection(cert, kind);
    rows.push([kind === 'tls' ? 'TLS 1.3 (TLSSocket)' : 'plain TCP (net.Socket)',
      format(heap!, 1), format(external!, 1), format(rss!, 1)]); // prettier-ignore
  }
  console.log(table([['server', 'heap', 'external', 'RSS'], ...rows]));
}

async function printReconnects(cert: GeneratedCertificate): Promise<void> {
  for (const presence of [0, undefined]) {
    const notices = presence === 0 ? 'join notices off' : 'shipped defaults (join notices on)';
    console.log(
      `\n${RECONNECTS} logged-in users reconnecting at once after a restart, ` +
        `from ${LOAD_CHILDREN} child processes, ${notices}:\n`,
    );
    console.log(table([['', ''], ...(await ticketReconnects(cert, presence))]));
  }
}

async function printChat(cert: GeneratedCertificate): Promise<void> {
  console.log(
    `\nChat round trips (${CHATTERS} clients in a child, one message every ${CHAT_EVERY_MS} ms), ` +
      `ms; the server's event-loop delay, ms; its CPU:\n`,
  );
  console.log(
    table([
      ['server', 'received', 'p50', 'p99', 'max', 'loop p99', 'loop max', 'server CPU'],
      ...(await chatDuringBurst(cert, DEFAULT_HANDSHAKES_PER_TURN, true)),
      ...(await chatDuringBurst(cert, 1_000_000, false)),
      ...(await chatDuringBurst(cert, DEFAULT_HANDSHAKES_PER_TURN, false)),
    ]),
  );
}

if (process.argv[2] === '--child') {
  if (process.argv[3] === 'load') loadChild();
  else void holdChild(process.argv[4] ?? 'raw');
} else {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
