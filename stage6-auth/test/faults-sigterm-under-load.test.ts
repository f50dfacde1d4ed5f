// Fault: SIGTERM while the server is busy.
//
// The real server process (`node --import tsx stage6-auth/bin/server.ts`,
// with a temporary key and SQLite file and bcrypt cost 4), with 100 users
// logged in and chatting, 5 connections that have their `hello` but have not
// logged in yet, 3 logins whose bcrypt comparison (cost 12, one hashing
// worker) is running or queued, and 1 logged-in client that has stopped
// reading its socket. Then SIGTERM.
//
// Expected: every one of those connections receives `{"type":"bye"}` and is
// closed; the process exits 0 (a watchdog allows far more than the server's
// own 2-second grace for peers that never close: not a speed test); stderr
// holds only JSON log lines, none at error level; stdout ends with `closed`.
// The client that stopped reading never answers the server's goodbye, so
// only the server's forced close (LINGER_MS in shared/src/polite-close.ts)
// lets the process exit at all.
import bcrypt from 'bcryptjs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../../shared/src/crypto';
import { saveKeyFile } from '../../shared/src/key-file';
import { LINGER_MS } from '../../shared/src/polite-close';
import { openUserStore } from '../../shared/src/user-store';
import { LineReader, REPO_ROOT } from '../../shared/test/helpers';
import { connectAndLogIn, type LoggedIn } from '../src/client-login';
import { sealMessage } from '../src/sealed-messages';
import { rawConnect, sealCredentials, type RawConn } from './harness';

const CHATTERS = 100;
const IDLE = 5;
const SLOW_LOGINS = 3;
const MESSAGES_EACH = 2;
// Generous: the server's grace for peers that never close, plus a wide
// margin for a busy machine. Exceeding it means the server hangs.
const WATCHDOG_MS = LINGER_MS + 20_000;

let dir: string;
let child: ChildProcess | undefined;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage6-sigterm-'));
});
afterAll(() => {
  child?.kill('SIGKILL'); // only if the test failed half-way
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A connection and what it received: did a `bye` come, and has it closed? */
interface Watched {
  sawBye: Promise<boolean>;
  closed: Promise<void>;
}

function watchLoggedIn(c: LoggedIn, onChat: () => void): Watched {
  const closed = once(c.socket, 'close').then(() => undefined);
  const sawBye = new Promise<boolean>((resolve) => {
    c.frames.listen((f) => {
      if (f.ok && f.frame.type === 'bye') resolve(true);
      if (f.ok && f.frame.type === 'chat') onChat();
    });
    void closed.then(() => resolve(false));
  });
  return { sawBye, closed };
}

function watchRaw(conn: RawConn): Watched {
  const sawBye = conn
    .frame((f) => f.type === 'bye')
    .then(
      () => true,
      () => false, // the stream ended without one
    );
  return { sawBye, closed: conn.closed };
}

test('SIGTERM under load: every client gets bye and is closed; the process exits 0 cleanly', async () => {
  const keyFile = path.join(dir, 'room.key');
  const dbFile = path.join(dir, 'chat.sqlite');
  const key = generateKey();
  saveKeyFile(keyFile, key);
  // Accounts go straight into the database file: cheap hashes for the
  // chatters, a cost-12 hash (~0.3 s or more per check) for the slow logins.
  const store = await openUserStore({ sqlitePath: dbFile });
  const cheap = bcrypt.hashSync('user-password', 4);
  const dear = bcrypt.hashSync('slow-password', 12);
  const names = Array.from({ length: CHATTERS + 1 }, (_, i) => `user${i}`);
  for (const name of names) await store.createUser(name, cheap);
  for (let i = 0; i < SLOW_LOGINS; i++) await store.createUser(`slow${i}`, dear);
  await store.close();

  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'stage6-auth/bin/server.ts',
      ...['--port', '0', '--key-file', keyFile, '--db-file', dbFile, '--bcrypt-cost', '4'],
      ...['--hash-workers', '1', '--hash-queue', '500', '--log-level', 'debug'],
      // 101 users log in at once from 127.0.0.1: lift the per-address caps
      // (this test is about shutdown under load, not about admission).
      ...['--max-prelogin-per-ip', '500', '--hash-jobs-per-ip', '500'],
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, CHAT_DB_URL: '', CHAT_KEY_FILE: '', CHAT_DB_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | string>((resolve) =>
    child!.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const stdout = new LineReader(child.stdout!);
  const stderr = new LineReader(child.stderr!);
  const port = Number(/:(\d+)$/.exec(await stdout.waitFor(/^listening on /))![1]);

  // Logged in: the chatters, and one more who will stop reading.
  const clients = await Promise.all(
    names.map((username) =>
      connectAndLogIn({ host: '127.0.0.1', port, key, username, password: 'user-password' }),
    ),
  );
  const stuck = clients.pop()!;
  let chatsSeen = 0;
  let someChatArrived: () => void = () => {};
  const chatFlowing = new Promise<void>((resolve) => (someChatArrived = resolve));
  const chatters = clients.map((c) =>
    watchLoggedIn(c, () => {
      chatsSeen++;
      someChatArrived();
    }),
  );
  const stuckWatch = watchLoggedIn(stuck, () => {});
  stuck.socket.pause(); // reads nothing more, not even the server's FIN

  // Connected, not logged in.
  const idle = await Promise.all(Array.from({ length: IDLE }, () => rawConnect(port)));
  // Logging in: each comparison takes a worker for a good fraction of a
  // second, and there is one worker, so at SIGTERM one runs and the rest wait.
  const isBcrypt = (line: string) => line.includes('"event":"bcrypt"');
  const slow = await Promise.all(Array.from({ length: SLOW_LOGINS }, () => rawConnect(port)));
  slow.forEach((conn, i) => {
    const box = sealCredentials(key, 'login', {
      username: `slow${i}`,
      password: 'slow-password',
      challenge: conn.challenge,
    });
    conn.sendJson({ type: 'login', box });
  });
  // Wait until the server has handed all of them to the hashing workers.
  for (let i = 0; i < names.length + SLOW_LOGINS; i++) await stderr.waitFor(isBcrypt);

  // Everyone talks at once; SIGTERM goes out while the chat is flowing.
  for (const c of clients) {
    for (let m = 0; m < MESSAGES_EACH; m++) {
      c.socket.write(sealMessage(key, c.username, `message ${m} from ${c.username}`));
    }
  }
  await chatFlowing;
  child.kill('SIGTERM');

  let watchdog: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<string>((resolve) => {
      watchdog = setTimeout(() => {
        child?.kill('SIGKILL');
        resolve(`still running ${WATCHDOG_MS} ms after SIGTERM`);
      }, WATCHDOG_MS);
    }),
  ]);
  clearTimeout(watchdog);
  await stderr.ended;
  await stdout.ended;
  expect({ code, stdout: stdout.lines.slice(-2) }).toEqual({
    code: 0,
    stdout: ['SIGTERM: shutting down', 'closed'],
  });

  // Every connection was told, and closed.
  const everyone = [...chatters, ...idle.map(watchRaw), ...slow.map(watchRaw)];
  const byes = await Promise.all(everyone.map((w) => w.sawBye));
  expect(byes.filter((b) => !b).length).toBe(0);
  await Promise.all(everyone.map((w) => w.closed));
  expect(chatsSeen).toBeGreaterThan(0);
  // The one that stopped reading: its goodbye is waiting in its buffer.
  stuck.socket.resume();
  expect(await stuckWatch.sawBye).toBe(true);
  await stuckWatch.closed;

  // Nothing but JSON logs on stderr (no stack trace), nothing at error level.
  const parsed = stderr.lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return line;
    }
  });
  expect(parsed.filter((r) => typeof r === 'string')).toEqual([]);
  const logs = parsed as Record<string, unknown>[];
  expect(logs.filter((r) => typeof r.level !== 'number' || r.level >= 50)).toEqual([]);
  // The server saw the load it was asked to shut down under.
  const shutdown = logs.find((r) => r.event === 'shutdown');
  expect(shutdown?.connections).toBe(CHATTERS + 1 + IDLE + SLOW_LOGINS);
  child = undefined;
});
