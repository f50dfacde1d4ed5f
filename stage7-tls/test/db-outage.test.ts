// The database goes away mid-run: password logins and ticket resumes fail
// with SERVICE_UNAVAILABLE (no driver detail reaches the client), chat
// between logged-in users goes on, and when the database is back, a stored
// ticket (kept through the outage) logs in again. Against the real MySQL
// through a TCP proxy, and against a store wrapper so it runs anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { serverName } from '../../shared/src/known-servers';
import { TicketStore } from '../../shared/src/ticket-store';
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { uniqueName } from '../../shared/test/user-store-contract';
import {
  DRIVER_DETAIL,
  flakyStore,
  mysqlBehindProxy,
  type BreakableStore,
} from '../../testkit/outage';
import type { LoggedIn } from '../src/client-login';
import {
  logIn,
  PASSWORD,
  rawTls,
  startTestServer,
  tempDir,
  watchedTickets,
  type TestServer,
} from './harness';

async function outageScenario(t: TestServer, down: () => void, up: () => void): Promise<void> {
  const dir = tempDir();
  const [alice, bob, dave] = ['alice', 'bob', 'dave'].map(uniqueName) as [string, string, string];
  try {
    const a = await logIn(t, dir, alice, { register: true });
    const b = await logIn(t, dir, bob, { register: true });
    const daveTickets = watchedTickets(dir);
    const d = await logIn(t, dir, dave, { register: true, tickets: daveTickets.store });
    await daveTickets.saved; // the ticket follows welcome, maybe in a later read
    d.socket.end();
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

// The same scenario against each way of breaking the database (testkit/outage.ts).
describeWithMysql('stage 7 server, MySQL stopped and restarted mid-run', mysqlTestUrl(), (url) => {
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

  test('logins and resumes fail with SERVICE_UNAVAILABLE while chat goes on; the ticket works after', async () => {
    expect(db.store.description).toMatch(/^MySQL /);
    await outageScenario(t, db.down, db.up);
  });
});

describe('stage 7 server, a store that goes away (wrapper; runs without MySQL)', () => {
  test('logins and resumes fail with SERVICE_UNAVAILABLE while chat goes on; the ticket works after', async () => {
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
