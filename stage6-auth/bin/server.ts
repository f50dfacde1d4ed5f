/**
 * `npm run stage6 [-- options]`: the stage 6 authenticated chat server.
 * Only reads the command line and the environment, opens the key and the
 * user store, and calls startServer.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import {
  keepServingWithoutOutput,
  onShutdownSignal,
  parseCommandLine,
  parsePositiveInt,
  runMain,
} from '../../shared/src/cli';
import { generateKey } from '../../shared/src/crypto';
import { DEFAULT_KEY_FILE, loadOrCreateKeyFile, resolveKeyFile } from '../../shared/src/key-file';
import { formatEndpoint } from '../../shared/src/listen';
import { chooseLogFormat, LOG_FORMAT_ENV } from '../../shared/src/log-format';
import { createLogger } from '../../shared/src/logger';
import { parseBcryptCost } from '../../shared/src/passwords';
import { openUserStore } from '../../shared/src/user-store';
import {
  DEFAULT_ERROR_BUDGET,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LOGIN_TIMEOUT_MS,
  startServer,
} from '../src/server';
import { limitFlags, limitsUsage, parseLimitFlags } from '../../shared/src/limit-flags';

const USAGE = `usage: npm run stage6 -- [--host HOST] [--port PORT] [--key-file PATH]
       [--db-file PATH] [--bcrypt-cost N] [--hash-workers N] [--hash-queue N]
       [--login-timeout-ms MS] [--idle-timeout-ms MS] [--log-level LEVEL]
       [--log-format FORMAT] [limits]

  --key-file PATH        room key (default .data/chat.key, or CHAT_KEY_FILE); created
                         on the first run (mode 0600) if there is none
  CHAT_DB_URL            mysql://USER:PASS@HOST:PORT/DB selects MySQL (see \`npm run db:setup\`);
                         unset: an embedded SQLite file
  --db-file PATH         the SQLite file (default .data/chat.sqlite, or CHAT_DB_FILE)
  --bcrypt-cost N        bcrypt cost for new passwords, 4-20 (default 12, or CHAT_BCRYPT_COST)
  --hash-workers N       hashing threads (default: CPU cores - 1, or CHAT_HASH_WORKERS)
  --hash-queue N         hashing jobs that may wait at most (default 256); below it a
                         login is queued if it can be answered before its deadline
  --login-timeout-ms MS  time a connection has to log in (default ${DEFAULT_LOGIN_TIMEOUT_MS})
  --idle-timeout-ms MS   silence allowed after login; ping at half (default ${DEFAULT_IDLE_TIMEOUT_MS})
  --log-level LEVEL      debug, info, warn, error or silent (default info, or LOG_LEVEL)
  --log-format FORMAT    json or pretty (or LOG_FORMAT); default: pretty when stderr is
                         a terminal, JSON lines otherwise. Logs go to stderr

${limitsUsage({ tls: false })}`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    'key-file': { type: 'string' },
    'db-file': { type: 'string' },
    'bcrypt-cost': { type: 'string' },
    'hash-workers': { type: 'string' },
    'hash-queue': { type: 'string' },
    'login-timeout-ms': { type: 'string' },
    'idle-timeout-ms': { type: 'string' },
    'log-level': { type: 'string' },
    ...limitFlags,
    'log-format': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = process.env;
  const costText = values['bcrypt-cost'] ?? env.CHAT_BCRYPT_COST;
  const workersText = values['hash-workers'] ?? env.CHAT_HASH_WORKERS;
  const timeoutText = values['login-timeout-ms'];
  const bcryptCost = costText === undefined ? undefined : parseBcryptCost(costText);
  const hashWorkers = parsePositiveInt('--hash-workers', workersText);
  const hashQueue = parsePositiveInt('--hash-queue', values['hash-queue']);
  const loginTimeoutMs = parsePositiveInt('--login-timeout-ms', timeoutText);
  const idleTimeoutMs = parsePositiveInt('--idle-timeout-ms', values['idle-timeout-ms']);
  const limits = parseLimitFlags(values, { errorBudget: DEFAULT_ERROR_BUDGET });
  const logger = createLogger({
    level: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
    format: chooseLogFormat(
      values['log-format'] ?? env[LOG_FORMAT_ENV],
      process.stderr.isTTY === true,
    ),
  });

  // The key first: without it nothing works. It opens every login box, so a
  // copy other local users could read is refused, not merely warned about.
  const key = openRoomKey(resolveKeyFile(values['key-file'], env));
  // A URL holds a password, so it comes from the environment only, never argv
  // (every local user can read a process's arguments with `ps`).
  const store = await openUserStore({
    url: env.CHAT_DB_URL,
    sqlitePath: values['db-file'] ?? (env.CHAT_DB_FILE || undefined),
  });
  console.log(`user store: ${store.description}`);
  const server = await startServer({
    ...endpoint,
    key,
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
  // Ctrl-C or a service manager's stop: tell every client (a "bye" frame),
  // wait for their connections to close, stop the workers and the store, exit 0.
  // The listener goes in before "listening on" is printed (see onShutdownSignal).
  const signal = onShutdownSignal();
  console.log(`listening on ${formatEndpoint(server.host, server.port)}`);
  console.log(`${await signal}: shutting down`);
  await server.close();
  await store.close();
  console.log('closed');
  return 0;
});

/**
 * The room key, created on the first run (as the SQLite file is), so that
 * `npm run stage6` on a fresh clone needs nothing else. The notice says where
 * it is and that every member needs a copy: a server that made a new key by
 * mistake (a mistyped --key-file) says so at once.
 */
function openRoomKey(file: string): Buffer {
  const { key, created } = loadOrCreateKeyFile(file, generateKey, { permissions: 'refuse' });
  if (created) {
    console.log(`created the room key ${file} (mode 0600: only you can read it)`);
    console.log(
      file === DEFAULT_KEY_FILE
        ? 'the clients of this checkout read it by default; give every other member a copy ' +
            'over a channel you trust (they pass it with --key-file PATH or CHAT_KEY_FILE)'
        : 'every member needs a copy, given over a channel you trust; clients pass it with ' +
            '--key-file PATH or CHAT_KEY_FILE',
    );
  }
  return key;
}
