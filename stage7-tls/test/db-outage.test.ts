// The database goes away mid-run: password logins and ticket resumes fail
// with SERVICE_UNAVAILABLE (no driver detail reaches the client), chat
// between logged-in users goes on, and when the database is back, a stored
// ticket (kept through the outage) logs in again. Against the real MySQL
// through a TCP proxy, and against a store wrapper so it runs anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { databaseUnavailable } from '../../shared/src/mysql-errors';
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import { serverName } from '../../shared/src/known-servers';
import { TicketStore } from '../../shared/src/ticket-store';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { startTcpProxy, type TcpProxy } from '../../shared/test/tcp-proxy';
import { uniqueName } from '../../shared/test/user-store-contract';
import type { LoggedIn } from '../src/client-login';
import { logIn, PASSWORD, rawTls, startTestServer, tempDir, type TestServer } from './harness';

const DRIVER_DETAIL = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|PROTOCOL_|ER_[A-Z_]+|unreachable|database/;

async function outageScenario(t: TestServer, down: () => void, up: () => void): Promise<void> {
  const dir = tempDir();
  const [alice, bob, dave] = ['alice', 'bob', 'dave'].map(uniqueName) as [string, string, string];
  try {
    const a = await logIn(t, dir, alice, { register: true });
    const b = await logIn(t, dir, bob, { register: true });
    await logIn(t, dir, dave, { register: true }).then((d) => d.socket.end());
    const tickets = new TicketStore(path.join(dir, 'tickets'));
    const daveTicket = tickets.load(serverName('127.0.0.1', t.port), dave);
    expect(daveTicket).toBeDefined();
    await t.waitForLog((r) => r.event === 'disconnect' && r.user === dave);

    down();
    for (const frame of [
      { type: 'login', user: dave, password: PASSWORD },
      { type: 'resume', user: dave, ticket: daveTicket },
    ]) {
      const raw = await rawTls(t.port);
      raw.send(frame);
      const answer = await raw.next();
      expect(answer).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
      const message = answer?.type === 'error' ? answer.message : '';
      expect(message).toMatch(/try again later/);
      expect(message).not.toMatch(DRIVER_DETAIL);
    }
    // The client keeps its ticket through an outage (only TICKET_INVALID drops it).
    await expect(logIn(t, dir, dave)).rejects.toThrow(
      expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
    );
    expect(tickets.load(serverName('127.0.0.1', t.port), dave)).toBe(daveTicket);
    expect(t.logLines.some((line) => DRIVER_DETAIL.test(line))).toBe(true);
    // Chat does not touch the database.
    a.socket.write(JSON.stringify({ type: 'chat', text: 'still here' }) + '\n');
    expect(await nextChat(b)).toEqual({ type: 'chat', from: alice, text: 'still here' });

    up();
    const back = await logIn(t, dir, dave);
    expect(back.by).toBe('ticket');
    for (const s of [a, b, back]) s.socket.destroy();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function nextChat(session: LoggedIn): Promise<unknown> {
  for (;;) {
    const d = await session.frames.next();
    if (d === undefined) throw new Error('closed');
    if (d.ok && d.frame.type === 'chat') return d.frame;
  }
}

describeWithMysql('stage 7 server, MySQL stopped and restarted mid-run', mysqlTestUrl(), (url) => {
  let proxy: TcpProxy;
  let store: UserStore;
  let t: TestServer;
  beforeAll(async () => {
    const target = parseMysqlUrl(url);
    proxy = await startTcpProxy(target);
    store = await openUserStore({
      url: formatMysqlUrl({ ...target, host: '127.0.0.1', port: proxy.port }),
      mysql: { connectTimeoutMs: 2000, queryTimeoutMs: 2000 },
    });
    t = await startTestServer({ store });
  });
  afterAll(async () => {
    await t?.close();
    await store?.close();
    await proxy?.close();
  });

  test('logins and resumes fail with SERVICE_UNAVAILABLE while chat goes on; the ticket works after', async () => {
    expect(store.description).toMatch(/^MySQL /);
    await outageScenario(
      t,
      () => proxy.stop(),
      () => proxy.resume(),
    );
  });
});

describe('stage 7 server, a store that goes away (wrapper; runs without MySQL)', () => {
  test('logins and resumes fail with SERVICE_UNAVAILABLE while chat goes on; the ticket works after', async () => {
    const inner = await openUserStore({ sqlitePath: ':memory:' });
    let available = true;
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
    });
    const check = () => {
      if (!available) throw databaseUnavailable(refused);
    };
    const flaky: UserStore = {
      description: `flaky ${inner.description}`,
      createUser: async (u, h) => (check(), inner.createUser(u, h)),
      findUser: async (u) => (check(), inner.findUser(u)),
      close: () => inner.close(),
    };
    const t = await startTestServer({ store: flaky });
    try {
      await outageScenario(
        t,
        () => (available = false),
        () => (available = true),
      );
    } finally {
      await t.close();
      await inner.close();
    }
  });
});
