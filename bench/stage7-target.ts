/**
 * Stage 7 in the benchmark: the stage 6 scenarios over TLS 1.3, with no
 * room key. Each load client registers through the real stage 7 client code
 * (TLS handshake, pin check, `register`) and then sends plain `chat` frames
 * inside TLS; the server labels and relays them, encrypting once per
 * recipient, where stage 6 relayed one sealed buffer to everyone.
 *
 * The server keeps its certificate in the run's folder (`stage7/`), created
 * by its first start; each load process reads it and pins its key once.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprintOfCertificate } from '../shared/src/fingerprint';
import { KnownServers, serverName } from '../shared/src/known-servers';
import { connectAndLogIn } from '../stage7-tls/src/client-login';
import { encodeClientFrame } from '../stage7-tls/src/messages';
import { BENCH_PASSWORD } from './login-client';
import { nowUs } from './payload';
import { runFile, type RunFiles } from './run-files';
import type { LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';
import type { Target } from './target';

const dataDir = (files: RunFiles) => path.join(files.dir, 'stage7');

// One known-servers file per load process, written once: a thousand clients
// then only read it.
const pins = new Map<string, KnownServers>();

/**
 * The pin a load client trusts a TLS server under test with: the key of the
 * certificate its server keeps in `certDir`, remembered once per load
 * process in a known-servers file of the run. Shared by the stage 7, 8 and
 * 9 targets, whose servers all make their certificate on the first start.
 *
 * @param endpoint - the server
 * @param files - the run's files (the known-servers file goes there)
 * @param certDir - the folder holding the server's `server.crt`
 */
export function pinnedTrust(
  endpoint: LoadEndpoint,
  files: RunFiles,
  certDir: string,
): { knownServers: KnownServers } {
  const name = serverName(endpoint.host, endpoint.port);
  let known = pins.get(name);
  if (known === undefined) {
    known = new KnownServers(path.join(files.dir, `known_servers-${process.pid}`));
    const pem = readFileSync(path.join(certDir, 'server.crt'), 'utf8');
    if (known.lookup(name) === undefined) known.remember(name, fingerprintOfCertificate(pem));
    pins.set(name, known);
  }
  return { knownServers: known };
}

/**
 * Opens one stage 7 load client: registers `username` through the real
 * stage 7 client code, then sends plain `chat` frames inside TLS. Stage 9's
 * nodes speak the same protocol, so its target uses this too.
 *
 * @param endpoint - the server (or the node) to connect to
 * @param events - where received payloads go; undefined for an idle client
 * @param files - the run's files
 * @param username - a new user to register
 * @param certDir - the folder holding the server's `server.crt` (the pin)
 */
export async function openStage7Client(
  endpoint: LoadEndpoint,
  events: LoadClientEvents | undefined,
  files: RunFiles,
  username: string,
  certDir: string,
): Promise<LoadClient> {
  const session = await connectAndLogIn({
    ...endpoint,
    trust: pinnedTrust(endpoint, files, certDir),
    username,
    password: () => Promise.resolve(BENCH_PASSWORD),
    register: true,
    retries: 0,
  });
  const { socket, frames } = session;
  const client: LoadClient & { closed: boolean } = {
    closed: socket.destroyed,
    send: (payload) => {
      if (!client.closed) socket.write(encodeClientFrame({ type: 'chat', text: payload }));
    },
    close: () => socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  frames.listen((decoded) => {
    if (!decoded.ok) return void socket.destroy();
    if (decoded.frame.type === 'chat') events?.onPayload(decoded.frame.text, nowUs());
  });
  return client;
}

/**
 * The server flags of the TLS stages (7, 8 and 9) in the chat scenarios:
 * bcrypt at its floor, and, as for stage 6, the per-address limits lifted,
 * because every load client registers from 127.0.0.1.
 */
export const CHAT_SCENARIO_ARGS: readonly string[] = [
  ...['--bcrypt-cost', '4'],
  ...['--registrations-per-ip', '1000000', '--registrations-per-minute', '1000000'],
  ...['--max-prelogin-per-ip', '100000', '--hash-jobs-per-ip', '100000'],
  ...['--failed-logins-per-ip', '100000'],
  ...['--log-level', 'warn'],
];

/** The stage 7 target: TLS 1.3, logged-in clients, plain chat frames inside TLS. */
export const stage7: Target = {
  name: 'stage7',
  description: 'stage 7 TLS server (stage7-tls/bin/server.ts), logged-in clients over TLS 1.3',
  entryFile: 'stage7-tls/bin/server.ts',
  serverArgs: (files) => [
    ...['--data-dir', dataDir(files), '--db-file', runFile(files, 'stage7', '.sqlite')],
    ...CHAT_SCENARIO_ARGS,
  ],
  openClient: (endpoint, events, context) =>
    openStage7Client(endpoint, events, context.files, `t${context.index}`, dataDir(context.files)),
  openIdleClient: (endpoint, context) =>
    openStage7Client(
      endpoint,
      undefined,
      context.files,
      `s${context.index}`,
      dataDir(context.files),
    ),
};
