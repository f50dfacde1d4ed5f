// The database goes away mid-run: logins fail with SERVICE_UNAVAILABLE (and
// the connection is closed), chat between logged-in users goes on, and when
// the database comes back logins work again, without restarting anything.
// Against the real MySQL through a TCP proxy the test controls; and, so the
// server's side is tested on any machine, against a store wrapper.
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { uniqueName } from '../../shared/test/user-store-contract';
import {
  DRIVER_DETAIL,
  flakyStore,
  mysqlBehindProxy,
  type BreakableStore,
} from '../../testkit/outage';
import { sealMessage } from '../src/sealed-messages';
import { logIn, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

/** Runs the outage scenario; `down()` and `up()` break and repair the database. */
async function outageScenario(t: TestServer, down: () => void, up: () => void): Promise<void> {
  const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(uniqueName) as [
    string,
    string,
    string,
    string,
  ];
  const a = await logIn(t, alice, 'alice-password', true);
  const b = await logIn(t, bob, 'bob-password', true);
  const d = await logIn(t, dave, 'dave-password', true);
  await t.leave(d.socket, dave);
  const bobChats: string[] = [];
  let onChat: () => void = () => {};
  b.frames.listen((f) => {
    if (f.ok && f.frame.type === 'chat') {
      bobChats.push(f.frame.from);
      onChat();
    }
  });
  const nextChat = () => new Promise<void>((resolve) => (onChat = resolve));

  down();
  for (const [type, name] of [
    ['login', dave],
    ['register', carol],
  ] as const) {
    const conn = await rawConnect(t.port);
    const answer = await rawAuth(conn, t.key, type, name, `${type}-password`);
    expect(answer).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    // The client learns "try again later", never the driver's error code:
    // that is a detail of our infrastructure, for the log only.
    const message = answer.type === 'error' ? answer.message : '';
    expect(message).toMatch(/try again later/);
    expect(message).not.toMatch(DRIVER_DETAIL);
    await conn.closed;
  }
  // The operator still finds the reason in the log.
  expect(t.logLines.some((line) => DRIVER_DETAIL.test(line))).toBe(true);
  // Chat does not touch the database: it goes on.
  const delivered = nextChat();
  a.socket.write(sealMessage(t.key, alice, 'the database is down, but we are not'));
  await delivered;
  expect(bobChats).toEqual([alice]);

  up();
  const again = await logIn(t, dave, 'dave-password');
  expect(again.username).toBe(dave);
  const c = await logIn(t, carol, 'carol-password', true);
  expect(c.online.sort()).toEqual([alice, bob, carol, dave].sort());
  await Promise.all([
    t.leave(again.socket, dave),
    t.leave(c.socket, carol),
    t.leave(a.socket, alice),
    t.leave(b.socket, bob),
  ]);
}

// The same scenario against each way of breaking the database (testkit/outage.ts).
describeWithMysql('stage 6 server, MySQL stopped and restarted mid-run', mysqlTestUrl(), (url) => {
  let db: BreakableStore;
  let t: TestServer;
  beforeAll(async () => {
    db = await mysqlBehindProxy(url);
    t = await startTestServer({ store: db.store });
  });
  afterAll(async () => {
    // Optional chaining: if beforeAll failed half-way, still close what it opened.
    await t?.close();
    await db?.close();
  });

  test('logins fail with SERVICE_UNAVAILABLE while chat goes on; they work again after', async () => {
    expect(db.store.description).toMatch(/^MySQL /);
    await outageScenario(t, db.down, db.up);
  });
});

describe('stage 6 server, a store that goes away (wrapper; runs without MySQL)', () => {
  test('logins fail with SERVICE_UNAVAILABLE while chat goes on; they work again after', async () => {
    const db = await flakyStore();
    const t = await startTestServer({ store: db.store });
    try {
      await outageScenario(t, db.down, db.up);
    } finally {
      await t.close();
      await db.close();
    }
  });
});
