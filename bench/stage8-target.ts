/**
 * Stage 8 in the benchmark: two targets on the same server (bench/README.md
 * says what each shows).
 *
 * `stage8`: each load client is a real stage 8 member, with its own identity
 * keys registered through the stage 8 client code, running the real
 * `RoomClient` over an `E2eSession`. A message the client refuses (bad
 * signature, replay, no sender key) is a warning, never a delivery, so it
 * shows up as lost.
 *
 * `stage8-relay`: clients with real key bundles that send `e2e-chat` frames
 * which only have the right shape and size (the payload plus a nonce's and a
 * tag's bytes as the box, a zero signature), and read the payload back out
 * without validating the frame, so the load process does not set the pace.
 *
 * Neither runs the idle scenario: every join sends key bundles both ways,
 * about n² frames for n members, many minutes per round for 1,000.
 *
 * @module
 */
import { BOX_OVERHEAD } from '../shared/src/crypto';
import { E2eSession } from '../shared/src/e2e-session';
import { LineDecoder } from '../shared/src/framing';
import { encodeKeyBundle, generateIdentity, SIGNATURE_BYTES } from '../shared/src/identity-keys';
import { KnownMembers } from '../shared/src/known-members';
import { MAX_FRAME_BYTES } from '../shared/src/protocol';
import { connectAndLogIn } from '../stage8-e2e/src/client-login';
import { encodeClientFrame } from '../stage8-e2e/src/messages';
import { RoomClient } from '../stage8-e2e/src/room-client';
import { socketClient, tlsLogin, tlsServerArgs } from './clients';
import { nowUs } from './payload';
import type { RunFiles } from './run-files';
import type { LoadClient, LoadClientEvents, LoadEndpoint, Target } from './target';

/** Warnings one load process has seen, so a refused message is not silent. */
let warningsShown = 0;

/** Registers `username` with a fresh identity's key bundle on a stage 8 server (`stage` names its folder). */
async function logIn8(endpoint: LoadEndpoint, files: RunFiles, stage: string, username: string) {
  const identity = generateIdentity(username);
  const keys = encodeKeyBundle(identity);
  const login = await connectAndLogIn({ ...tlsLogin(endpoint, files, stage, username), keys });
  return { ...login, identity };
}

/** A real stage 8 member. */
async function openStage8Client(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  files: RunFiles,
  username: string,
): Promise<LoadClient> {
  const { socket, frames, identity } = await logIn8(endpoint, files, 'stage8', username);
  const session = new E2eSession({
    identity,
    known: KnownMembers.inMemory(),
    firstEpoch: Date.now(),
  });
  const room = new RoomClient(socket, identity, session, {
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
  });
  frames.listen((decoded) => {
    if (!decoded.ok) return void socket.destroy();
    room.receive(decoded.frame);
  });
  return socketClient(socket, (payload) => room.say(payload));
}

const ZERO_SIGNATURE = Buffer.alloc(SIGNATURE_BYTES).toString('base64');
const BOX_PADDING = Buffer.alloc(BOX_OVERHEAD);
// The server writes its frames with `type` first (encodeServerFrame).
const E2E_CHAT_START = '{"type":"e2e-chat"';
const PING_START = '{"type":"ping"';
const BOX_KEY = '"box":"';
const PONG = encodeClientFrame({ type: 'pong' });

/** A `stage8-relay` client: real keys, well-shaped unsealed boxes, the cheapest reader. */
async function openRelayClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  files: RunFiles,
  username: string,
): Promise<LoadClient> {
  const { socket, frames } = await logIn8(endpoint, files, 'stage8-relay', username);
  const epoch = Date.now();
  let counter = 0;
  // After the login, read the socket directly: split lines and pick the box
  // out of each e2e-chat frame, without validating every field as the real
  // client does.
  frames.listen(() => {}); // nothing arrives through it once its listener is gone
  socket.removeAllListeners('data');
  const lines = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  socket.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) {
      if (!line.ok) return void socket.destroy();
      const text = line.text;
      if (text.startsWith(PING_START)) socket.write(PONG);
      if (!text.startsWith(E2E_CHAT_START)) continue;
      const start = text.indexOf(BOX_KEY) + BOX_KEY.length;
      const box = Buffer.from(text.slice(start, text.indexOf('"', start)), 'base64');
      events.onPayload(box.toString('latin1', 0, box.length - BOX_OVERHEAD), nowUs());
    }
  });
  return socketClient(socket, (payload) => {
    const box = Buffer.concat([Buffer.from(payload, 'latin1'), BOX_PADDING]).toString('base64');
    const frame = {
      type: 'e2e-chat' as const,
      epoch,
      counter: counter++,
      box,
      sig: ZERO_SIGNATURE,
    };
    socket.write(encodeClientFrame(frame));
  });
}

/** The stage 8 target: stage 7's server and accounts, the room end-to-end encrypted. */
export const stage8: Target = {
  name: 'stage8',
  description:
    'stage 8 end-to-end relay (stage8-e2e/bin/server.ts), clients sign, seal, verify and open',
  entryFile: 'stage8-e2e/bin/server.ts',
  baseline: 'stage7',
  idle: false,
  paced: false, // a signature check per delivery: its clients cannot keep the pace
  // No goal here: the clients' signatures set the rate, far below stage 7's,
  // so the server's CPU per message is measured at another rate (less
  // batching per read). The server's goal is judged on `stage8-relay`.
  serverArgs: (files) => tlsServerArgs(files, 'stage8'),
  openClient: (endpoint, events, { files, index }) =>
    openStage8Client(endpoint, events, files, `e${index}`),
};

/** The stage 8 server driven at stage 7's pace by clients that send well-shaped, unsealed boxes. */
export const stage8Relay: Target = {
  name: 'stage8-relay',
  description: 'stage 8 server (stage8-e2e/bin/server.ts), clients send box-sized frames unsealed',
  entryFile: 'stage8-e2e/bin/server.ts',
  baseline: 'stage7',
  idle: false, // the same server as stage8
  // It relays boxes it cannot open: no more CPU per delivered message than
  // stage 7 relaying text. Throughput is the load generator's (see README).
  goals: { maxCpuPerMessageRatio: 1 },
  serverArgs: (files) => tlsServerArgs(files, 'stage8-relay'),
  openClient: (endpoint, events, { files, index }) =>
    openRelayClient(endpoint, events, files, `r${index}`),
};
