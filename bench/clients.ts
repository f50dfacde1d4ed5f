/**
 * The load clients, one per protocol. Each connects, waits until the server
 * has admitted it, then sends payloads as chat messages and reports the
 * payloads it receives.
 *
 * The plain-text client (raw, stage 4) is cut short for speed, since one
 * load process plays every client: it decodes each read once as latin1
 * (every byte exchanged is ASCII) instead of validating UTF-8 line by line.
 * The encrypting clients skip nothing: they use the stages' own login,
 * sealing, decoders and opening, because there the cost sits in the clients
 * and the benchmark must show it. All read every byte as soon as it arrives
 * and disable Nagle's algorithm, as the stages do.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openText } from '../shared/src/crypto';
import { fingerprintOfCertificate } from '../shared/src/fingerprint';
import { encodeFrame, LineDecoder } from '../shared/src/framing';
import { KnownServers, serverName } from '../shared/src/known-servers';
import { MAX_FRAME_BYTES } from '../shared/src/protocol';
import * as stage5 from '../stage5-aes/src/messages';
import { sealMessage as seal5 } from '../stage5-aes/src/sealed-messages';
import { connectAndLogIn as logIn6 } from '../stage6-auth/src/client-login';
import {
  chatAssociatedData as ad6,
  encodeClientFrame as frame6,
} from '../stage6-auth/src/messages';
import { sealMessage as seal6 } from '../stage6-auth/src/sealed-messages';
import { connectAndLogIn as logIn7 } from '../stage7-tls/src/client-login';
import { encodeClientFrame as frame7 } from '../stage7-tls/src/messages';
import { nowUs } from './payload';
import { runDatabase, type RunFiles } from './run-files';
import type { LoadClient, LoadClientEvents, LoadEndpoint } from './target';

/** The password of every benchmark user: it meets the policy, and is no secret (throw-away databases). */
export const BENCH_PASSWORD = 'bench-password';

/**
 * The bcrypt cost of the servers of stages 6 to 9 in the chat scenarios
 * (fan-out, idle, scale): they measure chat, not hashing, and at the floor
 * 10,000 registrations take minutes instead of most of an hour. The login
 * scenarios use the real cost (`--bcrypt-cost`).
 */
export const CHAT_SCENARIO_BCRYPT_COST = 4;

/**
 * The server flags of stages 6 to 9 in the chat scenarios: bcrypt at
 * {@link CHAT_SCENARIO_BCRYPT_COST}, and the per-address limits lifted,
 * since every load client registers from 127.0.0.1 (those limits exist to
 * stop one address from doing exactly that). The message budget is lifted
 * too: the fan-out sends as fast as the server relays, the very thing the
 * budget slows down in a deployment; each frame still pays for its check.
 * `warn` keeps per-login lines out of the pipe; no level logs a chat message.
 */
export const CHAT_SCENARIO_ARGS: readonly string[] = [
  ...['--bcrypt-cost', String(CHAT_SCENARIO_BCRYPT_COST)],
  ...['--registrations-per-ip', '1000000', '--registrations-per-minute', '1000000'],
  ...['--max-prelogin-per-ip', '100000', '--hash-jobs-per-ip', '100000'],
  ...['--failed-logins-per-ip', '100000', '--message-budget', '1000000000'],
  ...['--log-level', 'warn'],
];

/** A load client over `socket`, whose `send` does nothing once it closed. */
export function socketClient(socket: net.Socket, send: (payload: string) => void): LoadClient {
  const client = {
    closed: socket.destroyed,
    send: (payload: string) => void (client.closed || send(payload)),
    close: () => void socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  return client;
}

/** Whether the server has let a client in yet. */
interface Gate {
  admitted: boolean;
  admit(): void;
}

/**
 * Connects a client over plain TCP; `onData` sees every read and calls
 * `gate.admit()` once the server let it in (`admitOnConnect`: at once).
 */
function tcpClient(
  endpoint: LoadEndpoint,
  admitOnConnect: boolean,
  send: (socket: net.Socket, payload: string) => void,
  onData: (socket: net.Socket, chunk: Buffer, gate: Gate) => void,
): Promise<LoadClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    const client = socketClient(socket, (payload) => send(socket, payload));
    const gate: Gate = {
      admitted: false,
      admit: () => {
        gate.admitted = true;
        resolve(client);
      },
    };
    if (admitOnConnect) socket.once('connect', gate.admit);
    socket.on('data', (chunk: Buffer) => onData(socket, chunk, gate));
    // A reset must not crash the load process: before admission it fails
    // this client, afterwards it simply closes it (the report counts it).
    socket.on('error', (err) => gate.admitted || reject(err));
    socket.once('close', () => gate.admitted || reject(new Error('closed before it was admitted')));
  });
}

/**
 * A plain-text client (raw, stage 4). Stage 4 sends `IP:PORT: TEXT` after a
 * `* welcome` line; its lines starting `* ` or `! ` are notices. The raw
 * broadcaster sends nothing but the lines as sent.
 */
export function openLineClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  stage4: boolean,
): Promise<LoadClient> {
  let tail = ''; // the unfinished last line of the previous read
  const payloadOf = (line: string) => {
    if (!stage4) return line;
    if (line.startsWith('* ') || line.startsWith('! ')) return null;
    const sep = line.indexOf(': ');
    return sep === -1 ? null : line.slice(sep + 2);
  };
  return tcpClient(
    endpoint,
    !stage4,
    (socket, payload) => socket.write(encodeFrame(payload)),
    (socket, chunk, gate) => {
      const receivedAtUs = nowUs(); // every line of one read arrived at once
      const text = tail + chunk.toString('latin1');
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        if (!gate.admitted) {
          if (line.startsWith('* welcome')) gate.admit();
          continue;
        }
        const payload = payloadOf(line);
        if (payload !== null) events.onPayload(payload, receivedAtUs);
      }
      tail = text.slice(start);
      if (tail.length > 1 << 16) socket.destroy(); // no server under test sends such lines
    },
  );
}

// The same associated data for every stage 5 chat box: built once.
const AD5 = stage5.chatAssociatedData();

/**
 * A stage 5 client: seals every payload (AES-256-GCM, a fresh nonce each),
 * and splits, validates and opens every frame received before it counts.
 * Against the raw broadcaster (`raw-sealed`) a line is another client's
 * `chat` frame, validated with the client-frame decoder: the same work, one
 * field less; there is no welcome there.
 */
export function openSealedClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  key: Buffer,
  server: 'stage5' | 'raw',
): Promise<LoadClient> {
  const decode = server === 'raw' ? stage5.decodeClientFrame : stage5.decodeServerFrame;
  const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  return tcpClient(
    endpoint,
    server === 'raw',
    (socket, payload) => socket.write(seal5(key, payload)),
    (socket, chunk, gate) => {
      for (const line of decoder.push(chunk)) {
        const decoded = line.ok ? decode(line.text) : null;
        // Broken protocol, or a box that does not open: the report shows a
        // disconnected client; it is never counted as delivered.
        if (decoded === null || !decoded.ok) return void socket.destroy();
        const frame: { type: string; box?: string } = decoded.frame;
        if (frame.type === 'welcome' && !gate.admitted) gate.admit();
        else if (frame.type === 'chat' && frame.box !== undefined && gate.admitted) {
          let text: string;
          try {
            text = openText(key, frame.box, AD5);
          } catch {
            return void socket.destroy();
          }
          events.onPayload(text, nowUs());
        }
      }
    },
  );
}

const PING = '{"type":"ping"}';
const PONG6 = frame6({ type: 'pong' });

/**
 * A stage 6 client: registers (or logs in as) `username` through the real
 * handshake, then chats like stage 5 with its name bound into every box and
 * opens each box with the `from` the server attached. Without `events` it
 * is an idle member of the scale scenario's crowd: after the login it only
 * drains its socket, undecoded (answering the idle ping), because decoding
 * the half a million `joined` frames of a 10,000 crowd would make the load
 * process, not the server, what the scenario measures.
 */
export async function openLoginClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents | undefined,
  key: Buffer,
  username: string,
  register = true,
): Promise<LoadClient> {
  const { host, port } = endpoint;
  const session = await logIn6({ host, port, key, username, password: BENCH_PASSWORD, register });
  const { socket, frames } = session;
  if (events === undefined) {
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => void (chunk.includes(PING) && socket.write(PONG6)));
    return socketClient(socket, () => {});
  }
  // 49 receivers open boxes from the same 10 senders: cache each sender's AD.
  const adBySender = new Map<string, Buffer>();
  frames.listen((decoded) => {
    if (!decoded.ok) return void socket.destroy();
    const frame = decoded.frame;
    if (frame.type !== 'chat') return; // joined, left, who: not chat
    let ad = adBySender.get(frame.from);
    if (ad === undefined) adBySender.set(frame.from, (ad = ad6(frame.from)));
    let text: string;
    try {
      text = openText(key, frame.box, ad);
    } catch {
      return void socket.destroy(); // a box that does not open: never counted as delivered
    }
    events.onPayload(text, nowUs());
  });
  return socketClient(socket, (payload) => socket.write(seal6(key, session.username, payload)));
}

/** The folder a TLS stage's servers keep their certificate in (made by the first start). */
const certDir = (files: RunFiles, stage: string) => path.join(files.dir, stage);

/**
 * The server flags of a TLS stage (7 to 9) in the chat scenarios: its
 * certificate folder, a fresh SQLite file (or `dbFile`, which a cluster's
 * nodes share), {@link CHAT_SCENARIO_ARGS}, and the pace of new connections
 * per address lifted (a TLS server's own limit; the load connects from one).
 */
export function tlsServerArgs(files: RunFiles, stage: string, dbFile?: string): string[] {
  dbFile ??= runDatabase(files, stage);
  return [
    ...['--data-dir', certDir(files, stage), '--db-file', dbFile],
    ...CHAT_SCENARIO_ARGS,
    ...['--connections-per-ip', '1000000'],
  ];
}

// One known-servers file per load process and server: a thousand clients only read it.
const pins = new Map<string, KnownServers>();

/**
 * The login options of a TLS stage's load client (stages 7 to 9): it
 * registers `username` with the benchmark password, trusting the key of the
 * certificate the server made on its first start, pinned once per load
 * process in a known-servers file of the run.
 */
export function tlsLogin(endpoint: LoadEndpoint, files: RunFiles, stage: string, username: string) {
  const name = serverName(endpoint.host, endpoint.port);
  let known = pins.get(name);
  if (known === undefined) {
    known = new KnownServers(path.join(files.dir, `known_servers-${process.pid}`));
    const pem = readFileSync(path.join(certDir(files, stage), 'server.crt'), 'utf8');
    if (known.lookup(name) === undefined) known.remember(name, fingerprintOfCertificate(pem));
    pins.set(name, known);
  }
  const password = () => Promise.resolve(BENCH_PASSWORD);
  return {
    ...endpoint,
    trust: { knownServers: known },
    username,
    password,
    register: true,
    retries: 0,
  };
}

/**
 * A stage 7 client (also stage 9's: same protocol): registers `username`
 * through the real stage 7 client code (TLS, pin check, `register`), then
 * sends plain `chat` frames inside TLS.
 */
export async function openStage7Client(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  files: RunFiles,
  username: string,
  stage: 'stage7' | 'stage9',
): Promise<LoadClient> {
  const { socket, frames } = await logIn7(tlsLogin(endpoint, files, stage, username));
  frames.listen((decoded) => {
    if (!decoded.ok) return void socket.destroy();
    if (decoded.frame.type === 'chat') events.onPayload(decoded.frame.text, nowUs());
  });
  return socketClient(socket, (text) => socket.write(frame7({ type: 'chat', text })));
}
