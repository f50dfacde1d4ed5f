/**
 * `npm run stage9:cluster -- --nodes 3`: a demo cluster in one process. Starts
 * N stage 9 nodes on consecutive ports (5050, 5051, 5052 by default), sharing
 * one certificate, one user store and one hashing pool; through Redis when
 * `--redis-url`/`CHAT_REDIS_URL` is given, else on one in-process bus (a
 * fresh clone needs nothing installed). Prints each node's `listening on`;
 * SIGINT or SIGTERM stops them all.
 *
 * One process is a demo, not a deployment: a real cluster runs `npm run
 * stage9` once per machine (or container), so that one crash takes one node.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import path from 'node:path';
import {
  keepServingWithoutOutput,
  onShutdownSignal,
  parseCommandLine,
  parsePositiveInt,
  runMain,
} from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { chooseLogFormat, LOG_FORMAT_ENV } from '../../shared/src/log-format';
import { createLogger } from '../../shared/src/logger';
import { parseBcryptCost, PasswordHasher } from '../../shared/src/passwords';
import { ensureServerIdentity, resolveIdentityFiles } from '../../shared/src/server-identity';
import { openUserStore } from '../../shared/src/user-store';
import { LocalCluster } from '../src/local-cluster';
import { startServer, type ChatServer } from '../src/server';

const USAGE = `usage: npm run stage9:cluster -- [--nodes N] [--host HOST] [--port FIRST]
       [--redis-url URL] [--redis-prefix P] [--data-dir DIR] [--db-file PATH]
       [--bcrypt-cost N] [--log-level LEVEL] [--log-format FORMAT]

  --nodes N          how many nodes (default 3, at most 16)
  --port FIRST       the first node's port; the others take the next ones (default 5050;
                     0: each node a free port)
  --redis-url URL    share the room through Redis (default CHAT_REDIS_URL; unset: an
                     in-process bus, nothing to install)
  --redis-prefix P   prefix of every Redis key and channel (default chat:, or
                     CHAT_REDIS_PREFIX): clusters sharing one Redis use different ones
  --data-dir DIR     certificate, key, ticket key and SQLite file (default .data/)
  --db-file PATH     the SQLite file (default .data/chat.sqlite, or CHAT_DB_FILE);
                     CHAT_DB_URL=mysql://… selects MySQL
  --bcrypt-cost N    bcrypt cost for new passwords, 4-20 (default 12, or CHAT_BCRYPT_COST)
  --log-level LEVEL  debug, info, warn, error or silent (default info, or LOG_LEVEL)
  --log-format FORMAT    json or pretty (default: pretty on a terminal). Logs go to stderr

Connect with \`npm run stage9:client -- --port PORT\` to any of the ports printed.`;

const MAX_NODES = 16;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    nodes: { type: 'string' },
    'redis-url': { type: 'string' },
    'redis-prefix': { type: 'string' },
    'data-dir': { type: 'string' },
    'db-file': { type: 'string' },
    'bcrypt-cost': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = process.env;
  const nodes = parsePositiveInt('--nodes', values.nodes) ?? 3;
  if (nodes > MAX_NODES) throw new ChatError('BAD_ARGUMENT', `--nodes must be ≤ ${MAX_NODES}`);
  if (endpoint.port !== 0 && endpoint.port + nodes - 1 > 65535) {
    throw new ChatError('BAD_ARGUMENT', `ports ${endpoint.port}… run past 65535`);
  }
  const redisUrl = values['redis-url'] ?? (env.CHAT_REDIS_URL || undefined);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ChatError('BAD_ARGUMENT', '--redis-url must start with redis:// or rediss://');
  }
  const keyPrefix = values['redis-prefix'] ?? (env.CHAT_REDIS_PREFIX || undefined);
  const costText = values['bcrypt-cost'] ?? env.CHAT_BCRYPT_COST;
  const bcryptCost = costText === undefined ? undefined : parseBcryptCost(costText);
  const logger = createLogger({
    level: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
    format: chooseLogFormat(
      values['log-format'] ?? env[LOG_FORMAT_ENV],
      process.stderr.isTTY === true,
    ),
  });

  const dataDir = values['data-dir'];
  const inDataDir = (name: string) =>
    dataDir === undefined ? undefined : path.join(dataDir, name);
  const { certificate, ticketKeys } = await ensureServerIdentity(
    resolveIdentityFiles({ cert: inDataDir('server.crt'), key: inDataDir('server.key') }),
    {
      generate: true,
      say: (line) => console.log(line),
      warn: (line) => console.error(`warning: ${line}`),
    },
  );
  const store = await openUserStore({
    url: env.CHAT_DB_URL,
    sqlitePath: values['db-file'] ?? (env.CHAT_DB_FILE || inDataDir('chat.sqlite')),
  });
  console.log(`user store: ${store.description}`);
  // One hashing pool for every node: they share this machine's cores anyway.
  const hasher = await PasswordHasher.start({ cost: bcryptCost });
  const localCluster = redisUrl === undefined ? new LocalCluster() : undefined;
  const servers: ChatServer[] = [];
  const closeAll = async () => {
    await Promise.all(servers.map((server) => server.close()));
    await hasher.close();
    await store.close();
  };
  try {
    for (let i = 0; i < nodes; i++) {
      servers.push(
        await startServer({
          host: endpoint.host,
          port: endpoint.port === 0 ? 0 : endpoint.port + i,
          identity: {
            chainPem: certificate.chainPem,
            privateKeyPem: certificate.privateKeyPem,
            ticketKeys,
          },
          store,
          hasher,
          // Not `node`: the `listening` line carries the node's id under that key.
          logger: logger.child({ nodeIndex: i + 1 }),
          redisUrl,
          keyPrefix,
          localCluster,
        }),
      );
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const signal = onShutdownSignal();
  console.log(`fingerprint: ${certificate.fingerprint}`);
  console.log(`cluster: ${nodes} nodes, ${redisUrl === undefined ? 'in-process bus' : 'Redis'}`);
  for (const server of servers) {
    console.log(`node ${server.nodeId} listening on ${server.host}:${server.port}`);
  }
  console.log(`${await signal}: shutting down`);
  await closeAll();
  console.log('closed');
  return 0;
});
