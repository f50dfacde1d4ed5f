// Presence notices stop in a big room: `joined` and `left` are sent only while
// the room, the user counted in, has at most the presence limit of members
// (after a join, before a leave). Here the limit is 3, so the 4th login and a
// leave from a room of 4 go unannounced, while `welcome` and `who` keep the
// exact count.
//
// A notice that was NOT sent cannot be waited for. Each check waits instead
// for a frame that must come after it: the answer to a `who` sent on the same
// connection once the server has handled the join or leave. TCP keeps one
// connection's bytes in order, so when that answer arrives, any notice queued
// before it has arrived too.
import { generateKey } from '../../shared/src/crypto';
import { announcesPresence, PRESENCE_NOTICE_LIMIT } from '../../shared/src/presence';
import { openUserStore } from '../../shared/src/user-store';
import { decodeServerFrame } from '../src/messages';
import { startServer } from '../src/server';
import { rawAuth, rawConnect, startTestServer, type RawConn, type TestServer } from './harness';

const LIMIT = 3;
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ presenceLimit: LIMIT });
  for (const name of USERS) {
    const conn = await rawConnect(t.port);
    await rawAuth(conn, t.key, 'register', name, `${name}-password`);
    await t.leave(conn.socket, name);
  }
});
afterAll(() => t.close());

/** Logs `name` in over a raw connection and checks the welcome's count. */
async function logIn(name: string, expectedCount: number): Promise<RawConn> {
  const conn = await rawConnect(t.port);
  expect(await rawAuth(conn, t.key, 'login', name, `${name}-password`)).toMatchObject({
    type: 'welcome',
    user: name,
    count: expectedCount,
  });
  return conn;
}

/**
 * Sends `who` on each connection, checks the count in the answer, and returns
 * every `joined`/`left` each connection has received so far (all of them:
 * the answer came after anything the server queued before it).
 */
async function noticesAfterWho(conns: RawConn[], expectedCount: number): Promise<string[][]> {
  return Promise.all(
    conns.map(async (conn) => {
      conn.sendJson({ type: 'who' });
      expect(await conn.frame((f) => f.type === 'who')).toMatchObject({ count: expectedCount });
      const notices: string[] = [];
      for (const line of conn.lines.lines) {
        const decoded = decodeServerFrame(line);
        if (!decoded.ok) continue;
        const f = decoded.frame;
        if (f.type === 'joined' || f.type === 'left')
          notices.push(`${f.type} ${f.who} ${f.online}`);
      }
      return notices;
    }),
  );
}

test('the rule: a change between n - 1 and n members is announced iff n <= limit', () => {
  expect(PRESENCE_NOTICE_LIMIT).toBe(1000);
  expect(announcesPresence(1000, PRESENCE_NOTICE_LIMIT)).toBe(true);
  expect(announcesPresence(1001, PRESENCE_NOTICE_LIMIT)).toBe(false);
  expect(announcesPresence(1, 0)).toBe(false);
});

test('joins and leaves are announced up to the limit, not beyond; who keeps the exact count', async () => {
  const u1 = await logIn('u1', 1);
  const u2 = await logIn('u2', 2);
  const u3 = await logIn('u3', 3); // the room now has 3 = the limit: announced
  const u4 = await logIn('u4', 4); // 4 > 3: not announced
  expect(await noticesAfterWho([u1, u2, u3, u4], 4)).toEqual([
    ['joined u2 2', 'joined u3 3'],
    ['joined u3 3'],
    [],
    [],
  ]);

  // A leave from a room of 4: not announced. The next, from a room of 3: announced.
  await t.leave(u4.socket, 'u4');
  expect(await noticesAfterWho([u1, u2, u3], 3)).toEqual([
    ['joined u2 2', 'joined u3 3'],
    ['joined u3 3'],
    [],
  ]);
  await t.leave(u3.socket, 'u3');
  expect(await noticesAfterWho([u1, u2], 2)).toEqual([
    ['joined u2 2', 'joined u3 3', 'left u3 2'],
    ['joined u3 3', 'left u3 2'],
  ]);

  // Back up through the limit: the same rule on the way up again.
  const u5 = await logIn('u5', 3); // 3: announced
  const u4again = await logIn('u4', 4); // 4: not
  expect(await noticesAfterWho([u1, u2, u5, u4again], 4)).toEqual([
    ['joined u2 2', 'joined u3 3', 'left u3 2', 'joined u5 3'],
    ['joined u3 3', 'left u3 2', 'joined u5 3'],
    [],
    [],
  ]);

  await t.leave(u4again.socket, 'u4'); // from 4: not announced
  await t.leave(u5.socket, 'u5'); // from 3: announced
  expect(await noticesAfterWho([u1, u2], 2)).toEqual([
    ['joined u2 2', 'joined u3 3', 'left u3 2', 'joined u5 3', 'left u5 2'],
    ['joined u3 3', 'left u3 2', 'joined u5 3', 'left u5 2'],
  ]);
  await t.leave(u2.socket, 'u2');
  await t.leave(u1.socket, 'u1');
});

test('a presence limit that is not a whole number >= 0 is refused before the server starts', async () => {
  const store = await openUserStore({ sqlitePath: ':memory:' });
  try {
    for (const presenceLimit of [-1, 1.5, Number.NaN]) {
      await expect(
        startServer({ key: generateKey(), store, presenceLimit, hashWorkers: 1 }),
      ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
  } finally {
    await store.close();
  }
});
