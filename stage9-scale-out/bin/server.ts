/**
 * `npm run stage9 [-- options]`: one stage 9 node (stage 7's TLS server,
 * sharing its room through Redis when `--redis-url`/`CHAT_REDIS_URL` is
 * given; alone, on an in-process bus, when not). Only reads the command line
 * and the environment, loads (or on the first run creates) the certificate,
 * key and ticket key, opens the user store, and calls startServer.
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
import { parseBcryptCost } from '../../shared/src/passwords';
import { ensureServerIdentity, resolveIdentityFiles } from '../../shared/src/server-identity';
import { openUserStore } from '../../shared/src/user-store';
import { limitsUsage, parseLimitFlags, tlsLimitFlags } from '../../shared/src/limit-flags';
import {
  DEFAULT_ERROR_BUDGET,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LOGIN_TIMEOUT_MS,
  startServer,
} from '../src/server';

const USAGE = `usage: npm run stage9 -- [--host HOST] [--port PORT] [--redis-url URL]
       [--node-id NAME] [--cert FILE --key FILE]
       [--ticket-key FILE] [--data-dir DIR] [--db-file PATH] [--bcrypt-cost N]
       [--hash-workers N] [--hash-queue N] [--login-timeout-ms MS]
       [--idle-timeout-ms MS] [--log-level LEVEL] [--log-format FORMAT] [limits]

  --redis-url URL    redis://[USER:PASS@]HOST:PORT (or rediss:// for TLS): join the
                     cluster there (default CHAT_REDIS_URL; unset: one node, alone)
  --node-id NAME     a readable name for this node in logs and Redis (default
                     node-PORT); a random suffix makes each run a new node
  --redis-prefix P   prefix of every Redis key and channel (default chat:, or
                     CHAT_REDIS_PREFIX): clusters sharing one Redis use different ones
  --heartbeat-ms MS  how often the node tells Redis it is alive (default 2000)
  --session-ttl-ms MS    how long a dead node's users stay online (default 3 heartbeats)
  --cert FILE, --key FILE  a certificate chain (PEM, leaf first) and its private key, e.g.
                     from a CA; default .data/server.crt and .data/server.key, created on
                     the first run (self-signed, mode 0600) if neither exists
  --ticket-key FILE  login ticket key (default ticket.key beside the certificate;
                     created if missing). Replacing it logs every ticket out
  --data-dir DIR     keep the default certificate, key, ticket key and SQLite file in DIR
  CHAT_DB_URL        mysql://USER:PASS@HOST:PORT/DB selects MySQL; unset: SQLite
  --db-file PATH     the SQLite file (default .data/chat.sqlite, or CHAT_DB_FILE)
  --bcrypt-cost N    bcrypt cost for new passwords, 4-20 (default 12, or CHAT_BCRYPT_COST)
  --hash-workers N   hashing threads (default: CPU cores - 1, or CHAT_HASH_WORKERS)
  --hash-queue N     hashing jobs that may wait at most (default 256)
  --login-timeout-ms MS  time a connection has to log in after its handshake
                     (default ${DEFAULT_LOGIN_TIMEOUT_MS})
  --idle-timeout-ms MS   silence allowed after login; ping at half (default ${DEFAULT_IDLE_TIMEOUT_MS})
  --log-level LEVEL  debug, info, warn, error or silent (default info, or LOG_LEVEL)
  --log-format FORMAT    json or pretty (default: pretty on a terminal). Logs go to stderr

At start it prints the key's fingerprint (SHA256:…): give it to your users, who
pin it on first contact (the client asks, or takes --server-fingerprint). Every
node of a cluster should share one --data-dir (or --cert, --key and --ticket-key
files): one fingerprint to pin, tickets good on any node.

${limitsUsage({ tls: true })}`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    'redis-url': { type: 'string' },
    'node-id': { type: 'string' },
    'redis-prefix': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'session-ttl-ms': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'ticket-key': { type: 'string' },
    'data-dir': { type: 'string' },
    'db-file': { type: 'string' },
    'bcrypt-cost': { type: 'string' },
    'hash-workers': { type: 'string' },
    'hash-queue': { type: 'string' },
    'login-timeout-ms': { type: 'string' },
    'idle-timeout-ms': { type: 'string' },
    ...tlsLimitFlags,
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = process.env;
  const costText = values['bcrypt-cost'] ?? env.CHAT_BCRYPT_COST;
  const bcryptCost = costText === undefined ? undefined : parseBcryptCost(costText);
  const hashWorkers = parsePositiveInt(
    '--hash-workers',
    values['hash-workers'] ?? env.CHAT_HASH_WORKERS,
  );
  const hashQueue = parsePositiveInt('--hash-queue', values['hash-queue']);
  const loginTimeoutMs = parsePositiveInt('--login-timeout-ms', values['login-timeout-ms']);
  const idleTimeoutMs = parsePositiveInt('--idle-timeout-ms', values['idle-timeout-ms']);
  // On a Redis cluster --failed-logins-per-ip sizes the shared bucket: one budget for all nodes.
  const limits = parseLimitFlags(values, { errorBudget: DEFAULT_ERROR_BUDGET });
  const redisUrl = values['redis-url'] ?? (env.CHAT_REDIS_URL || undefined);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ChatError('BAD_ARGUMENT', '--redis-url must start with redis:// or rediss://');
  }
  const keyPrefix = values['redis-prefix'] ?? (env.CHAT_REDIS_PREFIX || undefined);
  const heartbeatMs = parsePositiveInt('--heartbeat-ms', values['heartbeat-ms']);
  const sessionTtlMs = parsePositiveInt('--session-ttl-ms', values['session-ttl-ms']);
  const logger = createLogger({
    level: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
    format: chooseLogFormat(
      values['log-format'] ?? env[LOG_FORMAT_ENV],
      process.stderr.isTTY === true,
    ),
  });

  // The identity first: without it nothing works. A certificate of our own is
  // made only for the default files; a given --cert/--key must exist.
  const dataDir = values['data-dir'];
  const inDataDir = (name: string) =>
    dataDir === undefined ? undefined : path.join(dataDir, name);
  const files = resolveIdentityFiles({
    cert: values.cert ?? inDataDir('server.crt'),
    key: values.key ?? inDataDir('server.key'),
    ticketKey: values['ticket-key'],
  });
  const { certificate, ticketKeys } = await ensureServerIdentity(files, {
    generate: values.cert === undefined && values.key === undefined,
    say: (line) => console.log(line),
    warn: (line) => console.error(`warning: ${line}`),
  });
  const store = await openUserStore({
    url: env.CHAT_DB_URL,
    sqlitePath: values['db-file'] ?? (env.CHAT_DB_FILE || inDataDir('chat.sqlite')),
  });
  console.log(`user store: ${store.description}`);
  const server = await startServer({
    ...endpoint,
    identity: {
      chainPem: certificate.chainPem,
      privateKeyPem: certificate.privateKeyPem,
      ticketKeys,
    },
    store,
    bcryptCost,
    hashWorkers,
    hashQueue,
    loginTimeoutMs,
    idleTimeoutMs,
    ...limits,
    logger,
    redisUrl,
    nodeName: values['node-id'],
    keyPrefix,
    heartbeatMs,
    sessionTtlMs,
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const signal = onShutdownSignal();
  // Public, and what clients pin: print it before "listening on".
  console.log(`fingerprint: ${certificate.fingerprint}`);
  console.log(`node ${server.nodeId} (${redisUrl === undefined ? 'alone' : 'cluster via Redis'})`);
  console.log(`listening on ${server.host}:${server.port}`);
  console.log(`${await signal}: shutting down`);
  await server.close();
  await store.close();
  console.log('closed');
  return 0;
});
