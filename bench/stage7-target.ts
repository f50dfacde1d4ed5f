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
import type { ClientContext, LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';
import type { Target } from './targets';

const dataDir = (files: RunFiles) => path.join(files.dir, 'stage7');

// One known-servers file per load process, written once: a thousand clients
// then only read it.
const pins = new Map<string, KnownServers>();
function trustFor(endpoint: LoadEndpoint, files: RunFiles): { knownServers: KnownServers } {
  const name = serverName(endpoint.host, endpoint.port);
  let known = pins.get(name);
  if (known === undefined) {
    known = new KnownServers(path.join(files.dir, `known_servers-${process.pid}`));
    const pem = readFileSync(path.join(dataDir(files), 'server.crt'), 'utf8');
    if (known.lookup(name) === undefined) known.remember(name, fingerprintOfCertificate(pem));
    pins.set(name, known);
  }
  return { knownServers: known };
}

async function openStage7Client(
  endpoint: LoadEndpoint,
  events: LoadClientEvents | undefined,
  { files, index }: ClientContext,
  username: string,
): Promise<LoadClient> {
  const session = await connectAndLogIn({
    ...endpoint,
    trust: trustFor(endpoint, files),
    username,
    password: () => Promise.resolve(BENCH_PASSWORD),
    register: true,
    retries: 0,
  });
  void index;
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

/** The stage 7 target: TLS 1.3, logged-in clients, plain chat frames inside TLS. */
export const stage7: Target = {
  name: 'stage7',
  description: 'stage 7 TLS server (stage7-tls/bin/server.ts), logged-in clients over TLS 1.3',
  entryFile: 'stage7-tls/bin/server.ts',
  serverArgs: (files) => [
    ...['--data-dir', dataDir(files), '--db-file', runFile(files, 'stage7', '.sqlite')],
    ...['--bcrypt-cost', '4'],
    // As for stage 6: every load client registers from 127.0.0.1.
    ...['--registrations-per-ip', '1000000', '--registrations-per-minute', '1000000'],
    ...['--max-prelogin-per-ip', '100000', '--hash-jobs-per-ip', '100000'],
    ...['--failed-logins-per-ip', '100000'],
    ...['--log-level', 'warn'],
  ],
  openClient: (endpoint, events, context) =>
    openStage7Client(endpoint, events, context, `t${context.index}`),
  openIdleClient: (endpoint, context) =>
    openStage7Client(endpoint, undefined, context, `s${context.index}`),
};
