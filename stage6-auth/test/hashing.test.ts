// Why the hashing runs in worker threads: with bcrypt at its real cost (12)
// and one worker, a burst of logins takes seconds of CPU, yet a chat message
// sent in the middle of it is delivered while the logins are still queued.
// If hashing ran on the event loop, the message would wait for every hash.
import bcrypt from 'bcryptjs';
import { sealMessage } from '../src/sealed-messages';
import { logIn, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const BURST = 4;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ bcryptCost: 12, hashWorkers: 1 });
  // Alice and bob get cheap hashes straight in the store, so only the burst
  // (and the start-up dummy hash) pays the full cost on this busy machine.
  for (const name of ['alice', 'bob']) {
    await t.store.createUser(name, bcrypt.hashSync(`${name}-password`, 4));
  }
});
afterAll(() => t.close());

test('chat keeps flowing while a burst of logins is being hashed', async () => {
  const alice = await logIn(t, 'alice', 'alice-password');
  const bob = await logIn(t, 'bob', 'bob-password');
  let loginsAnswered = 0;
  let answeredWhenChatArrived = -1;
  const chatArrived = new Promise<void>((resolve) =>
    bob.frames.listen((d) => {
      if (d.ok && d.frame.type === 'chat') {
        answeredWhenChatArrived = loginsAnswered;
        resolve();
      }
    }),
  );

  // A burst of logins (unknown users: each still costs a full bcrypt compare).
  const isBcrypt = (r: Record<string, unknown>) => r.event === 'bcrypt';
  const before = t.countLogs(isBcrypt);
  const burst = await Promise.all(Array.from({ length: BURST }, () => rawConnect(t.port)));
  const answers = burst.map((conn, i) =>
    rawAuth(conn, t.key, 'login', `ghost${i}`, 'some-password').then((answer) => {
      loginsAnswered++;
      return answer;
    }),
  );
  // Wait until the server has handed every login to the hashing workers...
  await t.waitForLogCount(isBcrypt, before + BURST);
  // ...then chat.
  alice.socket.write(sealMessage(t.key, 'alice', 'are you there?'));
  await chatArrived;
  const all = await Promise.all(answers);
  expect(all.every((a) => a.type === 'error' && a.code === 'AUTH_FAILED')).toBe(true);
  // With one worker the logins finish one by one, seconds apart; the chat
  // message overtook all but (at most) the one that was already running.
  expect(answeredWhenChatArrived).toBeLessThan(BURST - 1);
  await t.leave(alice.socket, 'alice');
  await t.leave(bob.socket, 'bob');
});
