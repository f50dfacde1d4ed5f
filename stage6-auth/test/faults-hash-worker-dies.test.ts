// Fault: a bcrypt worker thread dies while it is checking a password.
//
// The server runs with ONE hashing worker, whose script is the real bcrypt
// work plus a trigger (shared/test/dying-bcrypt-worker.ts): a password that
// starts with DIE_WHILE_HASHING makes the thread die in the middle of that
// task, by exiting or by an uncaught exception. Expected: that one login
// gets SERVICE_UNAVAILABLE and is closed (no hang, no crash), logged-in users
// keep chatting, and the pool replaces the worker, so the next login works.
import bcrypt from 'bcryptjs';
import path from 'node:path';
import { PasswordHasher } from '../../shared/src/passwords';
import { DIE_WHILE_HASHING, type DeathKind } from '../../shared/test/dying-bcrypt-worker';
import { sealMessage } from '../src/sealed-messages';
import { logIn, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

let hasher: PasswordHasher;
let t: TestServer;
beforeAll(async () => {
  hasher = await PasswordHasher.start({
    cost: 4,
    workers: 1, // one worker: a later login can only succeed on its replacement
    workerScript: path.join(__dirname, '../../shared/test/dying-bcrypt-worker.ts'),
  });
  t = await startTestServer({ hasher });
  for (const name of ['alice', 'bob']) {
    await t.store.createUser(name, bcrypt.hashSync(`${name}-password`, 4));
  }
});
afterAll(async () => {
  await t?.close();
  await hasher?.close();
});

// A login (a comparison in the worker, here against alice's real hash: she
// is online, but the death comes before the one-session check) and a
// registration (a new hash), each with both ways for a thread to die.
const cases: [action: 'login' | 'register', death: DeathKind, victim: string][] = [
  ['login', 'exit', 'alice'],
  ['login', 'crash', 'alice'],
  ['register', 'exit', 'carol'],
  ['register', 'crash', 'dave'],
];

test.each(cases)(
  'a worker dying during a %s (%s): that login gets SERVICE_UNAVAILABLE, chat goes on, the next login works',
  async (action, death, victim) => {
    const alice = await logIn(t, 'alice', 'alice-password');
    const bob = await logIn(t, 'bob', 'bob-password');
    const bobHeard: string[] = [];
    const chatArrived = new Promise<void>((resolve) =>
      bob.frames.listen((f) => {
        if (f.ok && f.frame.type === 'chat') {
          bobHeard.push(f.frame.from);
          resolve();
        }
      }),
    );

    const failed = (r: Record<string, unknown>) =>
      r.event === `${action}_failed` && r.code === 'SERVICE_UNAVAILABLE';
    const failuresBefore = t.countLogs(failed);
    const conn = await rawConnect(t.port);
    const answer = await rawAuth(conn, t.key, action, victim, `${DIE_WHILE_HASHING}${death}`);
    expect(answer).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    await conn.closed; // refused and closed, not left waiting
    expect(t.countLogs(failed)).toBe(failuresBefore + 1);

    // Nobody else noticed: alice's message still reaches bob.
    alice.socket.write(sealMessage(t.key, 'alice', `still here after the ${death}`));
    await chatArrived;
    expect(bobHeard).toEqual(['alice']);

    // The pool has one worker, so these run on its replacement: a
    // registration (a hash), then a login (a comparison).
    const next = `next-${action}-${death}`;
    const registered = await logIn(t, next, 'next-password', true);
    await t.leave(registered.socket, next);
    const again = await logIn(t, next, 'next-password');
    expect(again.username).toBe(next);

    await t.leave(again.socket, next);
    await t.leave(alice.socket, 'alice');
    await t.leave(bob.socket, 'bob');
  },
);
