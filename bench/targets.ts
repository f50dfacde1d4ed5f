/**
 * The servers under test, in the order the tables list them. A stage joins
 * the benchmark by adding one {@link Target} here (or in a file of its own,
 * as stage 8 does): its entry file, its server flags, the baseline it is
 * judged against, its goals, and the load client that speaks its protocol
 * (clients.ts). It then gets the fan-out and idle scenarios, the table rows
 * and the ratios for free.
 *
 * @module
 */
import { ChatError } from '../shared/src/errors';
import {
  CHAT_SCENARIO_ARGS,
  openLineClient,
  openLoginClient,
  openSealedClient,
  openStage7Client,
  tlsServerArgs,
} from './clients';
import { runDatabase, runKey } from './run-files';
import { stage8, stage8Relay } from './stage8-target';
import type { LoadEndpoint, Target } from './target';

/** Spreads a cluster's clients over its nodes: client `i` on node `i % nodes`. */
function nodeFor(endpoint: LoadEndpoint, index: number): LoadEndpoint {
  const ports = endpoint.ports;
  if (ports === undefined || ports.length === 0) return endpoint;
  return { host: endpoint.host, port: ports[index % ports.length]! };
}

/**
 * Every target. The first, `raw`, is the baseline: a few dozen lines of
 * `node:net` that forward every line unchanged.
 */
export const TARGETS: readonly Target[] = [
  {
    name: 'raw',
    description: 'minimal node:net line broadcaster (bench/raw-broadcaster.ts)',
    entryFile: 'bench/raw-broadcaster.ts',
    scale: true,
    openClient: (endpoint, events) => openLineClient(endpoint, events, false),
  },
  {
    name: 'stage4',
    description: 'stage 4 multi-client chat server (stage4-multiclient/bin/server.ts)',
    entryFile: 'stage4-multiclient/bin/server.ts',
    goals: { minThroughputRatio: 0.9, maxMemoryRatio: 2, maxCpuPerMessageRatio: 1 },
    openClient: (endpoint, events) => openLineClient(endpoint, events, true),
  },
  // The raw broadcaster again, with load clients that do exactly stage 5's
  // clients' work per message (seal, split, validate, open); the server
  // relays their frames unchanged. Stages 5 and 6 are judged against it:
  // the same server as `raw`, the same client cost as theirs.
  {
    name: 'raw-sealed',
    description: 'the raw broadcaster, with load clients that seal and open like stage 5',
    entryFile: 'bench/raw-broadcaster.ts',
    idle: false,
    openClient: (endpoint, events, { files }) =>
      openSealedClient(endpoint, events, runKey(files), 'raw'),
  },
  {
    name: 'stage5',
    description: 'stage 5 encrypted relay (stage5-aes/bin/server.ts), clients seal and open',
    entryFile: 'stage5-aes/bin/server.ts',
    baseline: 'raw-sealed',
    goals: { minThroughputRatio: 0.7, maxCpuPerMessageRatio: 1.1 },
    openClient: (endpoint, events, { files }) =>
      openSealedClient(endpoint, events, runKey(files), 'stage5'),
  },
  {
    name: 'stage6',
    description: 'stage 6 authenticated server (stage6-auth/bin/server.ts), logged-in clients',
    entryFile: 'stage6-auth/bin/server.ts',
    baseline: 'raw-sealed',
    goals: { minThroughputRatio: 0.6, maxCpuPerMessageRatio: 1.1 },
    // Every load client registers from 127.0.0.1, up to 10,000 of them: the
    // limits that stop one address from doing exactly that are lifted, as
    // for the TLS stages. The login scenarios run the server as shipped,
    // but for the message budget (bench/logins.ts says why).
    serverArgs: (files) => [
      ...['--key-file', files.keyFile, '--db-file', runDatabase(files, 'stage6')],
      ...CHAT_SCENARIO_ARGS,
    ],
    scale: true,
    // Past 1,000 online the server announces no joins (PRESENCE_NOTICE_LIMIT),
    // so each later login of the scale crowd costs one write, not one per member.
    openClient: (endpoint, events, { files, index }) =>
      openLoginClient(endpoint, events, runKey(files), `b${index}`),
    openIdleClient: (endpoint, { files, index }) =>
      openLoginClient(endpoint, undefined, runKey(files), `i${index}`),
  },
  // TLS 1.3, no room key: plain `chat` frames inside TLS; the server
  // encrypts once per recipient, where stage 6 relayed one sealed buffer.
  {
    name: 'stage7',
    description: 'stage 7 TLS server (stage7-tls/bin/server.ts), logged-in clients over TLS 1.3',
    entryFile: 'stage7-tls/bin/server.ts',
    serverArgs: (files) => tlsServerArgs(files, 'stage7'),
    openClient: (endpoint, events, { files, index }) =>
      openStage7Client(endpoint, events, files, `t${index}`, 'stage7'),
  },
  stage8,
  stage8Relay,
  // One stage 9 node alone, on its in-process bus: judged against stage 7,
  // what the bus abstraction costs. The cluster scenario runs 1 to 3 over Redis.
  {
    name: 'stage9',
    description: 'stage 9 node (stage9-scale-out/bin/server.ts), alone; over Redis in "cluster"',
    entryFile: 'stage9-scale-out/bin/server.ts',
    baseline: 'stage7',
    idle: false, // stage 7's relay with a bus in between: its memory would repeat stage 7's
    serverArgs: (files) => tlsServerArgs(files, 'stage9'),
    openClient: (endpoint, events, { files, index }) =>
      openStage7Client(nodeFor(endpoint, index), events, files, `n${index}`, 'stage9'),
  },
];

/** The target every ratio is computed against. */
export const BASELINE = TARGETS[0]!;

/**
 * Looks a target up by name.
 *
 * @throws ChatError `BAD_ARGUMENT` if no target has that name
 */
export function targetNamed(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (target) return target;
  const known = TARGETS.map((t) => t.name).join(', ');
  throw new ChatError('BAD_ARGUMENT', `unknown target "${name}" (known: ${known})`);
}
