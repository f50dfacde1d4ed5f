/**
 * Stage 9 in the benchmark: stage 7's server as nodes of one room. Its
 * clients are stage 7's (the wire protocol did not change), so this target
 * reuses the stage 7 load client; what it adds is where a client connects.
 * Given a cluster (`endpoint.ports`), client `i` logs in to node
 * `i % nodes`, so every node has local members and most messages cross
 * Redis on their way.
 *
 * In the fan-out and idle scenarios the node runs alone, on its in-process
 * bus: judged against stage 7, that is what the bus abstraction costs. The
 * cluster scenario (stage9-scale.ts) starts 1, 2 and 3 nodes over Redis.
 *
 * Every node of a run shares one folder (certificate, ticket key) and one
 * SQLite file, as the stage's README asks of a real cluster.
 *
 * @module
 */
import path from 'node:path';
import { runFile, type RunFiles } from './run-files';
import { CHAT_SCENARIO_ARGS, openStage7Client } from './stage7-target';
import type { LoadEndpoint } from './load-client';
import type { Target } from './target';

/** The folder every stage 9 node of a run keeps its certificate in. */
export const stage9DataDir = (files: RunFiles): string => path.join(files.dir, 'stage9');

/** The node client `index` connects to. */
function nodeFor(endpoint: LoadEndpoint, index: number): LoadEndpoint {
  const ports = endpoint.ports;
  if (ports === undefined || ports.length === 0) return endpoint;
  return { host: endpoint.host, port: ports[index % ports.length]! };
}

/**
 * The server flags of one stage 9 node: the shared folder and database, the
 * chat-scenario limits, and nothing about Redis (the cluster scenario adds
 * `--redis-url` and `--redis-prefix`).
 *
 * @param files - the run's files
 * @param dbFile - the SQLite file the cluster's nodes share
 */
export function stage9NodeArgs(files: RunFiles, dbFile: string): string[] {
  return ['--data-dir', stage9DataDir(files), '--db-file', dbFile, ...CHAT_SCENARIO_ARGS];
}

/** The stage 9 target: one node alone here; 1 to 3 over Redis in the cluster scenario. */
export const stage9: Target = {
  name: 'stage9',
  description: 'stage 9 node (stage9-scale-out/bin/server.ts), alone; over Redis in "cluster"',
  entryFile: 'stage9-scale-out/bin/server.ts',
  baseline: 'stage7',
  // The same TLS relay as stage 7 with a bus in between; idle memory would
  // repeat stage 7's.
  idle: false,
  serverArgs: (files) => stage9NodeArgs(files, runFile(files, 'stage9', '.sqlite')),
  openClient: (endpoint, events, { files, index }) =>
    openStage7Client(nodeFor(endpoint, index), events, files, `n${index}`, stage9DataDir(files)),
  openIdleClient: (endpoint, { files, index }) =>
    openStage7Client(nodeFor(endpoint, index), undefined, files, `o${index}`, stage9DataDir(files)),
};
