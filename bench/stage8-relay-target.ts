/**
 * The stage 8 server alone, at stage 7's pace: the fair test of "the server
 * relays opaque boxes at no more cost per message than stage 7".
 *
 * With real end-to-end clients (`stage8`) the load process spends most of
 * its time verifying signatures, so the server sees a small fraction of
 * stage 7's message rate and batches almost nothing per read; its CPU per
 * message is then measured at a different rate from stage 7's. Here the
 * clients register with real key bundles, but send `e2e-chat` frames whose
 * fields only have the right shape and size: the box is the payload plus the
 * bytes of a nonce and a tag (exactly a real box's length), the signature 64
 * bytes of zeros. The server checks only shapes and cannot tell the
 * difference; receivers read the payload back out of the box instead of
 * opening it, without validating the frames (a real client checks every
 * field), so that the load process is cheap enough not to set the pace.
 * Nothing here is end to end: it measures the server.
 *
 * @module
 */
import path from 'node:path';
import { BOX_OVERHEAD } from '../shared/src/crypto';
import { LineDecoder } from '../shared/src/framing';
import { MAX_FRAME_BYTES } from '../shared/src/protocol';
import { encodeKeyBundle, generateIdentity, SIGNATURE_BYTES } from '../shared/src/identity-keys';
import { connectAndLogIn } from '../stage8-e2e/src/client-login';
import { encodeClientFrame } from '../stage8-e2e/src/messages';
import { BENCH_PASSWORD, CHAT_SCENARIO_ARGS, pinnedTrust } from './clients';
import { nowUs } from './payload';
import { runFile, type RunFiles } from './run-files';
import type { LoadClient, LoadClientEvents, LoadEndpoint, Target } from './target';

const dataDir = (files: RunFiles) => path.join(files.dir, 'stage8-relay');
const SIG = Buffer.alloc(SIGNATURE_BYTES).toString('base64');
const PADDING = Buffer.alloc(BOX_OVERHEAD);
// The server writes its frames with `type` first (encodeServerFrame).
const E2E_CHAT_START = '{"type":"e2e-chat"';
const PING_START = '{"type":"ping"';
const BOX_KEY = '"box":"';
const PONG = encodeClientFrame({ type: 'pong' });

async function openRelayClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  files: RunFiles,
  username: string,
): Promise<LoadClient> {
  const login = await connectAndLogIn({
    ...endpoint,
    trust: pinnedTrust(endpoint, files, dataDir(files)),
    username,
    keys: encodeKeyBundle(generateIdentity(username)),
    password: () => Promise.resolve(BENCH_PASSWORD),
    register: true,
    retries: 0,
  });
  const { socket, frames } = login;
  const epoch = Date.now();
  let counter = 0;
  const client: LoadClient & { closed: boolean } = {
    closed: socket.destroyed,
    send: (payload) => {
      if (client.closed) return;
      const box = Buffer.concat([Buffer.from(payload, 'latin1'), PADDING]).toString('base64');
      socket.write(
        encodeClientFrame({ type: 'e2e-chat', epoch, counter: counter++, box, sig: SIG }),
      );
    },
    close: () => socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  // After the login, read the socket directly: split lines and pick the box
  // out of each e2e-chat frame, without validating every field as the real
  // client does. The cheapest reader keeps the load process from setting the
  // pace, so the server is measured near stage 7's rate.
  frames.listen(() => {}); // nothing arrives through it once its listener is gone
  socket.removeAllListeners('data');
  const lines = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  socket.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) {
      if (!line.ok) return void socket.destroy();
      const text = line.text;
      if (text.startsWith(PING_START)) {
        socket.write(PONG);
        continue;
      }
      if (!text.startsWith(E2E_CHAT_START)) continue;
      const start = text.indexOf(BOX_KEY) + BOX_KEY.length;
      const box = Buffer.from(text.slice(start, text.indexOf('"', start)), 'base64');
      events.onPayload(box.toString('latin1', 0, box.length - BOX_OVERHEAD), nowUs());
    }
  });
  return client;
}

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
  serverArgs: (files) => [
    ...['--data-dir', dataDir(files), '--db-file', runFile(files, 'stage8r', '.sqlite')],
    ...CHAT_SCENARIO_ARGS,
  ],
  openClient: (endpoint, events, { files, index }) =>
    openRelayClient(endpoint, events, files, `r${index}`),
};
