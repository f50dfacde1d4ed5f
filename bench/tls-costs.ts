/**
 * What TLS costs the stage 7 server: `npx tsx bench/tls-costs.ts` prints four
 * tables (name some of `handshakes memory reconnects chat` to run only those),
 * explained in stage7-tls/docs/appendix.md: handshakes per second, full and
 * resumed, with the server's CPU per handshake; memory per idle connection,
 * TLS against plain TCP; 1,000 ticket reconnects at once after a restart,
 * join notices off and on; chat round trips while 500 TLS connections open
 * at once, the handshake gate (`handshake-gate.ts`) off and on. Servers and
 * clients run in separate processes (this file, forked), so a server's
 * figures are its own work; other processes may still share the cores:
 * read the ratios, not the third digit.
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
import { PRESENCE_INTERVAL_MS } from '../shared/src/presence-notices';
import { TicketStore } from '../shared/src/ticket-store';
import { TlsSessionCache } from '../shared/src/tls-client';
import { openUserStore } from '../shared/src/user-store';
import { type Decoded } from '../shared/src/protocol';
import { connectAndLogIn, type LoggedIn, type ShownFrame } from '../stage7-tls/src/client-login';
import { DEFAULT_HANDSHAKES_PER_TURN } from '../shared/src/handshake-gate';
import { ALPN_PROTOCOL, encodeClientFrame } from '../stage7-tls/src/messages';
import { startServer, type ServerOptions } from '../stage7-tls/src/server';
import { format, table } from './report-format';
import { percentile } from './stats';

const IDLE_CONNECTIONS = 1000;
const HANDSHAKES = 1000;
const IN_FLIGHT = 16;
const RECONNECTS = 1000;
const LOAD_CHILDREN = 2;
const BURST = 500;
const CHATTERS = 4;
const CHAT_EVERY_MS = 20;
/** More handshakes per turn than a burst has: the gate is off. */
const UNGATED = 1_000_000;

// ─── the child processes ─────────────────────────────────────────────────

/** Opens a TLS connection without checking the key (the pin is checked elsewhere). */
function connectTls(port: number, session?: Buffer): tls.TLSSocket {
  return tls.connect({
    host: '127.0.0.1',
    port,
    rejectUnauthorized: false,
    ALPNProtocols: [ALPN_PROTOCOL],
    session,
  });
}

/**
 * What a child process does, method by method (the parent calls them with
 * `ask`): be a bare server, or be stage 7 clients.
 */
class ChildRole {
  private connections = 0;
  private readonly sessions: LoggedIn[] = [];
  private readonly notices = { frames: 0, names: 0 };
  private latencies: number[] = [];
  private chatTimer: NodeJS.Timeout | undefined;

  /** Starts a bare server that holds every connection; resolves with its port. */
  async listen(kind: 'tcp' | 'tls', cert: GeneratedCertificate): Promise<number> {
    const hold = (socket: net.Socket) => {
      this.connections++;
      socket.on('error', () => {});
      socket.on('close', () => this.connections--);
      socket.resume();
    };
    const options = {
      cert: cert.certificatePem,
      key: cert.privateKeyPem,
      minVersion: 'TLSv1.3' as const,
      ALPNProtocols: [ALPN_PROTOCOL],
    };
    const server = kind === 'tls' ? tls.createServer(options, hold) : net.createServer(hold);
    await once(server.listen(0, '127.0.0.1'), 'listening');
    return (server.address() as net.AddressInfo).port;
  }

  /** This process's memory after a garbage collection, and its CPU time so far. */
  report() {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, external, rss } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    return {
      connections: this.connections,
      heapUsed,
      external,
      rss,
      cpuMs: (user + system) / 1000,
    };
  }

  /** Logs `users` in with their stored tickets; resolves with how many came back by ticket. */
  async logIn(port: number, dir: string, users: string[]): Promise<number> {
    const known = new KnownServers(path.join(dir, 'known_servers'));
    const tickets = new TicketStore(path.join(dir, 'tickets'));
    const back = await Promise.all(
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
    for (const session of back) session.frames.listen((decoded) => this.see(decoded));
    this.sessions.push(...back);
    return back.filter((session) => session.by === 'ticket').length;
  }

  /** The join notices received so far: frames, and the arrivals they named. */
  count(): { frames: number; names: number } {
    return this.notices;
  }

  /** Starts the chat: the sessions take turns, one message every CHAT_EVERY_MS. */
  startChat(): void {
    this.latencies = [];
    let next = 0;
    this.chatTimer = setInterval(() => {
      const frame = encodeClientFrame({ type: 'chat', text: String(performance.now()) });
      this.sessions[next++ % this.sessions.length]!.socket.write(frame);
    }, CHAT_EVERY_MS / this.sessions.length);
  }

  /** Stops the chat; resolves with the round trips since the start, ms. */
  async stopChat(): Promise<number[]> {
    clearInterval(this.chatTimer);
    await sleep(200); // the last messages' echoes
    return this.latencies;
  }

  /** Opens `count` TLS connections at once (left open); how many opened, in how long. */
  async burst(port: number, count: number): Promise<{ opened: number; ms: number }> {
    const start = performance.now();
    const results = await Promise.all(
      Array.from({ length: count }, () => {
        const socket = connectTls(port);
        return new Promise<boolean>((resolve) => {
          socket.once('secureConnect', () => resolve(true));
          socket.on('error', () => resolve(false));
        });
      }),
    );
    return { opened: results.filter(Boolean).length, ms: performance.now() - start };
  }

  private see(decoded: Decoded<ShownFrame>): void {
    if (!decoded.ok) return;
    const frame = decoded.frame;
    if (frame.type === 'chat') {
      this.latencies.push(performance.now() - Number(frame.text));
    } else if (frame.type === 'joined' || frame.type === 'left') {
      this.notices.frames++;
      this.notices.names++;
    } else if (frame.type === 'presence') {
      this.notices.frames++;
      this.notices.names += frame.joined.length;
    }
  }
}

/** In a child: runs the parent's calls on a {@link ChildRole}, one reply each. */
function serveParent(): void {
  const role = new ChildRole();
  process.on('message', ({ method, args }: { method: keyof ChildRole; args: unknown[] }) => {
    const call = role[method] as (...args: unknown[]) => unknown;
    new Promise((resolve) => resolve(call.apply(role, args))).then(
      (reply) => process.send!({ reply }),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
  process.send!({ ready: true });
}

/** Forks `count` children, lends them to `use`, and kills them after. */
async function withChildren<T>(
  count: number,
  use: (children: ChildProcess[]) => Promise<T>,
): Promise<T> {
  const children = Array.from({ length: count }, () =>
    fork(__filename, ['--child'], { execArgv: ['--require', 'tsx/cjs', '--expose-gc'] }),
  );
  try {
    await Promise.all(children.map((child) => once(child, 'message'))); // ready
    return await use(children);
  } finally {
    for (const child of children) child.kill();
  }
}

/** Calls `method` of a child's {@link ChildRole} and waits for the reply. */
async function ask<M extends keyof ChildRole>(
  child: ChildProcess,
  method: M,
  ...args: Parameters<ChildRole[M]>
): Promise<Awaited<ReturnType<ChildRole[M]>>> {
  child.send({ method, args });
  const [answer] = (await once(child, 'message')) as [{ reply: never; error?: string }];
  if (answer.error !== undefined) throw new Error(`child: ${answer.error}`);
  return answer.reply;
}

// ─── 1. handshakes per second ────────────────────────────────────────────

async function handshakeRows(cert: GeneratedCertificate): Promise<string[][]> {
  return withChildren(1, async ([server]) => {
    const port = await ask(server!, 'listen', 'tls', cert);
    let ticket: Buffer | undefined;
    // One handshake, resolving whether it resumed. A full one ends when its
    // ticket arrives (kept for the resumed ones); a resumed one at once.
    const one = (resume: boolean) =>
      new Promise<boolean>((resolve, reject) => {
        const socket = connectTls(port, resume ? ticket : undefined);
        socket.on('session', (session: Buffer) => {
          ticket = session;
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
      const before = await ask(server!, 'report');
      let reused = 0;
      let started = 0;
      const start = performance.now();
      const lane = async () => {
        while (started++ < HANDSHAKES) if (await one(resume)) reused++;
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const seconds = (performance.now() - start) / 1000;
      const after = await ask(server!, 'report');
      const cpuMs = (after.cpuMs - before.cpuMs) / HANDSHAKES;
      rows.push([
        resume ? `resumed (${reused} of ${HANDSHAKES} reused)` : 'full (ECDSA P-256)',
        format(HANDSHAKES / seconds, 0),
        format(cpuMs, 2),
        format(1000 / cpuMs, 0),
      ]);
    }
    return rows;
  });
}

// ─── 2. memory per idle connection ───────────────────────────────────────

async function memoryRow(cert: GeneratedCertificate, kind: 'tcp' | 'tls'): Promise<string[]> {
  return withChildren(1, async ([server]) => {
    const port = await ask(server!, 'listen', kind, cert);
    const before = await ask(server!, 'report');
    const clients: net.Socket[] = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i++) {
      const socket = kind === 'tls' ? connectTls(port) : net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      await once(socket, kind === 'tls' ? 'secureConnect' : 'connect');
      clients.push(socket);
    }
    let after = await ask(server!, 'report');
    while (after.connections < IDLE_CONNECTIONS) {
      after = await ask(server!, 'report');
    }
    for (const socket of clients) socket.destroy();
    const kib = (key: 'heapUsed' | 'external' | 'rss') =>
      format((after[key] - before[key]) / IDLE_CONNECTIONS / 1024, 1);
    const name = kind === 'tls' ? 'TLS 1.3 (TLSSocket)' : 'plain TCP (net.Socket)';
    return [name, kib('heapUsed'), kib('external'), kib('rss')];
  });
}

// ─── a stage 7 server with accounts and stored tickets ──────────────────

/** A running stage 7 server, and where its clients find the pin and tickets. */
interface BenchServer {
  port: number;
  /** Holds known_servers (the pin) and tickets/ for the clients. */
  dir: string;
  hasher: PasswordHasher;
  bcryptJobs(): number;
}

/**
 * Lends `use` a stage 7 server at the shipped defaults, except the
 * per-address limits (every client is 127.0.0.1, and those limits exist to
 * stop one address from doing exactly this) and `tuning`; `users` have
 * accounts and, in `dir`, the tickets of yesterday's password logins.
 */
async function withBenchServer<T>(
  cert: GeneratedCertificate,
  users: string[],
  tuning: Pick<ServerOptions, 'presenceLimit' | 'handshakesPerTurn'>,
  use: (bench: BenchServer) => Promise<T>,
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
  const store = await openUserStore({ sqlitePath: ':memory:' });
  const ticketKeys = TicketKeys.generate();
  const hasher = await PasswordHasher.start(); // the shipped cost (12)
  let jobs = 0;
  const reserve = hasher.reserve.bind(hasher);
  hasher.reserve = (request) => {
    jobs++;
    return reserve(request);
  };
  const many = users.length + BURST;
  const server = await startServer({
    identity: { chainPem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, ticketKeys },
    store,
    hasher,
    maxPreLoginPerAddress: many,
    newConnectionsPerAddress: { capacity: many, refillMs: 1 },
    hashJobsPerAddress: many,
    rateLimits: { perIp: { capacity: many, refillMs: 1 } },
    ...tuning,
  });
  try {
    const name = serverName('127.0.0.1', server.port);
    new KnownServers(path.join(dir, 'known_servers')).remember(name, cert.fingerprint);
    const tickets = new TicketStore(path.join(dir, 'tickets'));
    const issuer = new LoginTickets({ keys: ticketKeys });
    // One real hash, shared by every account: not what is measured.
    const hash = await hasher.hash('a password nobody types');
    for (const user of users) {
      await store.createUser(user, hash);
      tickets.save(name, user, issuer.issue(user).ticket);
    }
    jobs = 0;
    return await use({ port: server.port, dir, hasher, bcryptJobs: () => jobs });
  } finally {
    await server.close();
    await hasher.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ─── 3. ticket reconnects after a restart ────────────────────────────────

async function reconnectRows(
  cert: GeneratedCertificate,
  presenceLimit: number | undefined,
): Promise<string[][]> {
  const users = Array.from({ length: RECONNECTS }, (_, i) => `u${i}`);
  const share = Math.ceil(RECONNECTS / LOAD_CHILDREN);
  return withBenchServer(cert, users, { presenceLimit }, ({ port, dir, hasher, bcryptJobs }) =>
    withChildren(LOAD_CHILDREN, async (children) => {
      const start = performance.now();
      const byTicket = await Promise.all(
        children.map((child, i) =>
          ask(child, 'logIn', port, dir, users.slice(i * share, (i + 1) * share)),
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      const jobs = bcryptJobs();
      // Let the last notices arrive: two quiet intervals, then count.
      await sleep(4 * PRESENCE_INTERVAL_MS);
      const counts = await Promise.all(children.map((child) => ask(child, 'count')));
      const perClient = (key: 'frames' | 'names', digits: number) =>
        format(counts.reduce((sum, c) => sum + c[key], 0) / RECONNECTS, digits);
      const back = byTicket.reduce((sum, n) => sum + n, 0);
      const passwordSeconds = (RECONNECTS * hasher.averageJobMs) / hasher.workers / 1000;
      return [
        ['clients back', `${back} of ${RECONNECTS} (by ticket)`],
        ['time until all are back', `${format(seconds, 2)} s (goal: 30 s)`],
        ['bcrypt jobs', String(jobs)],
        [
          'notice frames per client',
          `${perClient('frames', 1)} (naming ${perClient('names', 0)} arrivals)`,
        ],
        [
          'the same with passwords (estimate)',
          `${format(passwordSeconds, 0)} s (${RECONNECTS} × ${format(hasher.averageJobMs, 0)} ms ` +
            `on ${hasher.workers} worker(s))`,
        ],
      ];
    }),
  );
}

// ─── 4. chat latency while handshakes arrive ─────────────────────────────

/** Rows for a server with `handshakesPerTurn`: idle (if `withIdle`), then a burst. */
async function chatRows(
  cert: GeneratedCertificate,
  handshakesPerTurn: number,
  withIdle: boolean,
): Promise<string[][]> {
  const users = Array.from({ length: CHATTERS }, (_, i) => `chatter${i}`);
  return withBenchServer(cert, users, { handshakesPerTurn }, ({ port, dir }) =>
    withChildren(2, async ([chat, burst]) => {
      await ask(chat!, 'logIn', port, dir, users);
      // One row: chat round trips while `during` runs, and this process's
      // (the server's) event-loop delay and CPU meanwhile.
      const phase = async (what: string, during: () => Promise<string>) => {
        await ask(chat!, 'startChat');
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const cpu = process.cpuUsage();
        const start = performance.now();
        const label = await during();
        const ms = performance.now() - start;
        const { user, system } = process.cpuUsage(cpu);
        loop.disable();
        const samples = await ask(chat!, 'stopChat');
        const sorted = Float64Array.from(samples).sort();
        return [
          `${what}${label}`,
          String(sorted.length),
          ...[50, 99, 100].map((p) => format(percentile(sorted, p), 1)),
          format(loop.percentile(99) / 1e6, 1),
          format(loop.max / 1e6, 1),
          `${format(((user + system) / 1000 / ms) * 100, 0)} %`,
        ];
      };
      const gate =
        handshakesPerTurn === UNGATED
          ? 'handshakes not gated'
          : `${handshakesPerTurn} handshakes per turn (shipped)`;
      const rows: string[][] = [];
      if (withIdle) rows.push(await phase('idle', () => sleep(2000, '')));
      rows.push(
        await phase(`${BURST} new TLS connections, ${gate}`, async () => {
          await sleep(200);
          const done = await ask(burst!, 'burst', port, BURST);
          await sleep(200);
          return ` (all ${done.opened} in ${format(done.ms / 1000, 2)} s)`;
        }),
      );
      return rows;
    }),
  );
}

// ─── the report ──────────────────────────────────────────────────────────

function print(heading: string, header: string[], rows: string[][]): void {
  console.log(`\n${heading}:\n\n${table([header, ...rows])}`);
}

/** The report's sections, by the name that selects them on the command line. */
const SECTIONS: Record<string, (cert: GeneratedCertificate) => Promise<void>> = {
  handshakes: async (cert) =>
    print(
      `TLS 1.3 handshakes, server alone in a child process, ${IN_FLIGHT} at a time from this one`,
      ['handshake', 'per second', 'server CPU ms each', 'per second per server core'],
      await handshakeRows(cert),
    ),
  memory: async (cert) =>
    print(
      `Memory per idle connection (${IDLE_CONNECTIONS} held by a child server), KiB`,
      ['server', 'heap', 'external', 'RSS'],
      [await memoryRow(cert, 'tcp'), await memoryRow(cert, 'tls')],
    ),
  reconnects: async (cert) => {
    for (const presenceLimit of [0, undefined]) {
      const notices =
        presenceLimit === 0 ? 'join notices off' : 'shipped defaults (join notices on)';
      print(
        `${RECONNECTS} logged-in users reconnecting at once after a restart, ` +
          `from ${LOAD_CHILDREN} child processes, ${notices}`,
        ['', ''],
        await reconnectRows(cert, presenceLimit),
      );
    }
  },
  chat: async (cert) =>
    print(
      `Chat round trips (${CHATTERS} clients in a child, one message every ${CHAT_EVERY_MS} ms), ` +
        `ms; the server's event-loop delay, ms; its CPU`,
      ['server', 'received', 'p50', 'p99', 'max', 'loop p99', 'loop max', 'server CPU'],
      [
        ...(await chatRows(cert, DEFAULT_HANDSHAKES_PER_TURN, true)),
        ...(await chatRows(cert, UNGATED, false)),
        ...(await chatRows(cert, DEFAULT_HANDSHAKES_PER_TURN, false)),
      ],
    ),
};

async function main(only: string[]): Promise<void> {
  const cert = await generateCertificate();
  console.log(`stage 7 TLS costs, Node ${process.version}, ${os.cpus().length} CPU(s)`);
  for (const [name, section] of Object.entries(SECTIONS)) {
    if (only.length === 0 || only.includes(name)) await section(cert);
  }
}

if (process.argv[2] === '--child') {
  serveParent();
} else {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
