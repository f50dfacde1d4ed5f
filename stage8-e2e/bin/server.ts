/**
 * `npm run stage8 [-- options]`: the stage 8 chat server (TLS 1.3, a relay
 * for end-to-end encrypted rooms: it stores public keys and never sees a
 * line of chat). Only
 * reads the command line and the environment, loads (or on the first run
 * creates) the certificate, key and ticket key, opens the user store, and
 * calls startServer.
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
import { openUserKeyStore } from '../../shared/src/user-store';
import { limitsUsage, parseLimitFlags, tlsLimitFlags } from '../../shared/src/limit-flags';
import {
  DEFAULT_ERROR_BUDGET,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LOGIN_TIMEOUT_MS,
  startServer,
} from '../src/server';

const USAGE = `usage: npm run stage8 -- [--host HOST] [--port PORT] [--cert FILE --key FILE]
       [--ticket-key FILE] [--data-dir DIR] [--db-file PATH] [--bcrypt-cost N]
       [--hash-workers N] [--hash-queue N] [--login-timeout-ms MS]
       [--idle-timeout-ms MS] [--log-level LEVEL] [--log-format FORMAT] [limits]

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
pin it on first contact (the client asks, or takes --server-fingerprint).

${limitsUsage({ tls: true })}`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
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
  const limits = parseLimitFlags(values, { errorBudget: DEFAULT_ERROR_BUDGET });
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
  const store = await openUserKeyStore({
    url: env.CHAT_DB_URL,
    sqlitePath: values['db-file'] ?? (env.CHAT_DB_FILE || inDataDir('chat.sqlite')),
  });
  console.log(`user store: ${store.description}`);
  // A database set up before stage 8 has no user_keys table (or no grant on
  // it): say so now, rather than at the first registration.
  await store.findUserKeys('startup-check').catch(async (err: unknown) => {
    await store.close();
    const why = err instanceof Error ? err.message : String(err);
    throw new ChatError(
      'SERVICE_UNAVAILABLE',
      `cannot read the user_keys table (${why}); run npm run db:setup again`,
    );
  });
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
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const signal = onShutdownSignal();
  // Public, and what clients pin: print it before "listening on".
  console.log(`fingerprint: ${certificate.fingerprint}`);
  console.log(`listening on ${server.host}:${server.port}`);
  console.log(`${await signal}: shutting down`);
  await server.close();
  await store.close();
  console.log('closed');
  return 0;
});
