/**
 * Stage 8 in the benchmark: stage 7's scenarios with the room encrypted end
 * to end. Each load client is a real stage 8 member: it makes its own
 * identity keys, registers with them through the stage 8 client code (TLS,
 * pin check, `register` carrying the key bundle), and runs the real
 * `RoomClient` over an `E2eSession`. Every payload it sends is sealed and
 * signed (its sender key first goes, in pairwise boxes, to each member that
 * lacks it), and every `e2e-chat` it receives is verified and opened before
 * the payload counts as delivered. A message refused by the client (bad
 * signature, replay, no sender key) is a warning, never a delivery, so it
 * shows up as lost.
 *
 * Compared with stage 7 (`baseline: 'stage7'`: the same TLS server and
 * accounts, relaying plain text), the load CPU per delivered message is what
 * end to end costs the clients. The server's own goal is judged on
 * `stage8-relay` (stage8-relay-target.ts), at stage 7's pace.
 *
 * The idle scenario leaves stage 8 out: every join sends the newcomer's key
 * bundle to everyone present and everyone's to the newcomer (in rooms of
 * every size), so n joins cost about n² frames, and 1,000 idle members take
 * many minutes per round on 2 cores. Idle clients (the `openIdleClient`
 * below, used if the scenario is switched on again) register with keys and
 * then only read, dropping what they read.
 *
 * @module
 */
import path from 'node:path';
import { E2eSession } from '../shared/src/e2e-session';
import { encodeKeyBundle, generateIdentity } from '../shared/src/identity-keys';
import { KnownMembers } from '../shared/src/known-members';
import { connectAndLogIn } from '../stage8-e2e/src/client-login';
import { RoomClient } from '../stage8-e2e/src/room-client';
import { BENCH_PASSWORD, CHAT_SCENARIO_ARGS, pinnedTrust } from './clients';
import { nowUs } from './payload';
import { runFile, type RunFiles } from './run-files';
import type { LoadClient, LoadClientEvents, LoadEndpoint, Target } from './target';

const dataDir = (files: RunFiles) => path.join(files.dir, 'stage8');

/** Warnings one load process has seen, so a refused message is not silent. */
let warningsShown = 0;

async function openStage8Client(
  endpoint: LoadEndpoint,
  events: LoadClientEvents | undefined,
  files: RunFiles,
  username: string,
): Promise<LoadClient> {
  const identity = generateIdentity(username);
  const login = await connectAndLogIn({
    ...endpoint,
    trust: pinnedTrust(endpoint, files, dataDir(files)),
    username,
    keys: encodeKeyBundle(identity),
    password: () => Promise.resolve(BENCH_PASSWORD),
    register: true,
    retries: 0,
  });
  const { socket, frames } = login;
  const client: LoadClient & { closed: boolean } = {
    closed: socket.destroyed,
    send: () => {},
    close: () => socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  if (events === undefined) {
    frames.listen((decoded) => void (decoded.ok || socket.destroy()));
    return client;
  }
  const room = new RoomClient(
    socket,
    identity,
    new E2eSession({ identity, known: KnownMembers.inMemory(), firstEpoch: Date.now() }),
    {
      // `NAME: TEXT`, after verification and decryption; names have no ": ".
      chat: (line) => events.onPayload(line.slice(line.indexOf(': ') + 2), nowUs()),
      notice: () => {},
      warning: (line) => {
        // A message sealed before its sender heard that someone joined has
        // no key box for the newcomer, who refuses it: expected during the
        // crowd's sync, while clients are still joining. Later, a refusal is
        // a lost delivery. Say why, a few times per process.
        if (warningsShown++ < 5) {
          console.error(`stage8 load client ${username} (joins may still race): ${line}`);
        }
      },
    },
  );
  client.send = (payload) => {
    if (!client.closed) room.say(payload);
  };
  frames.listen((decoded) => {
    if (!decoded.ok) return void socket.destroy();
    room.receive(decoded.frame);
  });
  return client;
}

/** The stage 8 target: stage 7's server and accounts, the room end-to-end encrypted. */
export const stage8: Target = {
  name: 'stage8',
  description:
    'stage 8 end-to-end relay (stage8-e2e/bin/server.ts), clients sign, seal, verify and open',
  entryFile: 'stage8-e2e/bin/server.ts',
  baseline: 'stage7',
  idle: false,
  // No goal here: the clients' signatures set the rate, far below stage 7's,
  // so the server's CPU per message is measured at another rate (less
  // batching per read). The server's goal is judged on `stage8-relay`.
  serverArgs: (files) => [
    ...['--data-dir', dataDir(files), '--db-file', runFile(files, 'stage8', '.sqlite')],
    ...CHAT_SCENARIO_ARGS,
  ],
  openClient: (endpoint, events, { files, index }) =>
    openStage8Client(endpoint, events, files, `e${index}`),
  openIdleClient: (endpoint, { files, index }) =>
    openStage8Client(endpoint, undefined, files, `f${index}`),
};
