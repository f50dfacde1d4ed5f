/**
 * The servers under test, each described by a small "target": how to start it,
 * and how a load client connects to it, sends a message and recognises a
 * received one.
 *
 * The benchmark itself knows nothing about protocols. It starts a target's
 * server, asks the target for load clients, and passes opaque payloads through
 * them. A stage joins the benchmark by adding one entry here: stage 5's load
 * client seals each payload with AES-GCM and opens each received one; stage
 * 6's registers a user first and resolves `openClient` only once logged in.
 *
 * @module
 */
import { ChatError } from '../shared/src/errors';
import { openIdleLoginClient, openLoginClient } from './login-client';
import { openLineClient } from './plaintext-client';
import { runFile, runKey } from './run-files';
import { openSealedClient } from './sealed-client';
import { stage7 } from './stage7-target';
import { stage8Relay } from './stage8-relay-target';
import { stage8 } from './stage8-target';
import { stage9 } from './stage9-target';
import type { Target } from './target';

export type { Goals, Target } from './target';

/** The raw baseline: lines come back exactly as sent, with nothing else on the wire. */
const raw: Target = {
  name: 'raw',
  description: 'minimal node:net line broadcaster (bench/raw-broadcaster.ts)',
  entryFile: 'bench/raw-broadcaster.ts',
  scale: true,
  openClient: (endpoint, events) =>
    openLineClient(endpoint, events, { payloadOf: (line) => line, welcome: null }),
};

/**
 * The raw broadcaster again, driven by load clients that do exactly the
 * stage 5 clients' work per message: seal every payload into a
 * `{"type":"chat","box":…}` frame and, for every frame received, split,
 * validate and open it. The raw server relays those frames unchanged. This is
 * what stage 5 and stage 6 are compared against: the same server as `raw`,
 * the same client cost as theirs.
 */
const rawSealed: Target = {
  name: 'raw-sealed',
  description: 'the raw broadcaster, with load clients that seal and open like stage 5',
  entryFile: 'bench/raw-broadcaster.ts',
  idle: false,
  openClient: (endpoint, events, { files }) =>
    openSealedClient(endpoint, events, runKey(files), 'raw'),
};

/**
 * Stage 4: chat lines arrive as `IP:PORT: TEXT`; lines starting with `* `
 * (welcome, join, leave) or `! ` (errors) are notices, not messages.
 */
const stage4: Target = {
  name: 'stage4',
  description: 'stage 4 multi-client chat server (stage4-multiclient/bin/server.ts)',
  entryFile: 'stage4-multiclient/bin/server.ts',
  goals: { minThroughputRatio: 0.9, maxMemoryRatio: 2, maxCpuPerMessageRatio: 1 },
  openClient: (endpoint, events) =>
    openLineClient(endpoint, events, {
      payloadOf: (line) => {
        if (line.startsWith('* ') || line.startsWith('! ')) return null;
        const sep = line.indexOf(': ');
        return sep === -1 ? null : line.slice(sep + 2);
      },
      welcome: /^\* welcome/,
    }),
};

/**
 * Stage 5: every payload is sealed (AES-256-GCM) before it is sent and every
 * received box is validated and opened, in the load process, as real clients
 * do. The server relays boxes and needs no key.
 */
const stage5: Target = {
  name: 'stage5',
  description: 'stage 5 encrypted relay (stage5-aes/bin/server.ts), clients seal and open',
  entryFile: 'stage5-aes/bin/server.ts',
  baseline: 'raw-sealed',
  goals: { minThroughputRatio: 0.7, maxCpuPerMessageRatio: 1.1 },
  openClient: (endpoint, events, { files }) =>
    openSealedClient(endpoint, events, runKey(files), 'stage5'),
};

/**
 * The bcrypt cost of the stage 6 servers in the fan-out and idle scenarios.
 * Those scenarios measure chat, not hashing; at bcrypt's floor, 1,000
 * registrations take a few seconds instead of minutes. The login scenarios
 * use the real cost (`--bcrypt-cost`, default 12).
 */
export const CHAT_SCENARIO_BCRYPT_COST = 4;

/**
 * Stage 6: every load client registers its own user (`b0`, `b1`, …) through
 * the real handshake before it counts as in the room, then chats like stage 5
 * with its username bound into every box. Each server gets the run's key and
 * an empty SQLite file of its own.
 */
const stage6: Target = {
  name: 'stage6',
  description: 'stage 6 authenticated server (stage6-auth/bin/server.ts), logged-in clients',
  entryFile: 'stage6-auth/bin/server.ts',
  baseline: 'raw-sealed',
  goals: { minThroughputRatio: 0.6, maxCpuPerMessageRatio: 1.1 },
  serverArgs: (files) => [
    ...['--key-file', files.keyFile, '--db-file', runFile(files, 'stage6', '.sqlite')],
    ...['--bcrypt-cost', String(CHAT_SCENARIO_BCRYPT_COST)],
    // Every load client registers from 127.0.0.1, 50 at a time (1,000 and
    // 10,000 in all for the idle and scale scenarios): lift the limits on
    // registrations, on waiting connections, on hashing jobs and on attempts
    // per address (every attempt in flight holds a failed-login token until
    // it succeeds), which exist to stop one address from doing exactly that.
    // These are chat scenarios; the login scenarios run the server as shipped.
    ...['--registrations-per-ip', '1000000', '--registrations-per-minute', '1000000'],
    ...['--max-prelogin-per-ip', '100000', '--hash-jobs-per-ip', '100000'],
    ...['--failed-logins-per-ip', '100000'],
    // No line is logged per chat message at any level; `warn` only keeps
    // 1,000 "connected" and "login ok" lines out of the pipe.
    ...['--log-level', 'warn'],
  ],
  scale: true,
  // Short names keep frames small; any number of users fits, as welcome and who
  // carry a count and at most 50 names. Past 1,000 online the server sends no
  // joined/left (PRESENCE_NOTICE_LIMIT in shared/src/presence.ts): in the
  // idle ramp to 10,000, each later login costs one write, not one per user online.
  openClient: (endpoint, events, { files, index }) =>
    openLoginClient(endpoint, events, runKey(files), `b${index}`),
  openIdleClient: (endpoint, { files, index }) =>
    openIdleLoginClient(endpoint, runKey(files), `i${index}`),
};

/**
 * Every target, in the order the table lists them. The first one is the
 * baseline the others are compared against.
 */
export const TARGETS: readonly Target[] = [
  raw,
  stage4,
  rawSealed,
  stage5,
  stage6,
  stage7,
  stage8,
  stage8Relay,
  stage9,
];

/** The target every ratio is computed against. */
export const BASELINE = raw;

/**
 * Looks a target up by name.
 *
 * @param name - a {@link Target.name}
 * @throws ChatError `BAD_ARGUMENT` if no target has that name
 */
export function targetNamed(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    const known = TARGETS.map((t) => t.name).join(', ');
    throw new ChatError('BAD_ARGUMENT', `unknown target "${name}" (known: ${known})`);
  }
  return target;
}
