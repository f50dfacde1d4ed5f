// Reconnects cost no bcrypt: a password login earns a ticket, the client
// keeps it (0600), and the next login sends it instead of the password. The
// hashing jobs are counted to prove it. A refused ticket falls back to the
// password; the ticket survives a server restart with the same key file.
import fs from 'node:fs';
import path from 'node:path';
import { serverName } from '../../shared/src/known-servers';
import { TicketStore } from '../../shared/src/ticket-store';
import { TicketKeys } from '../../shared/src/login-ticket';
import { openUserStore } from '../../shared/src/user-store';
import { respellLastCharacter } from '../../shared/test/helpers';
import {
  logIn,
  rawTls,
  startTestServer,
  tempDir,
  watchedTickets,
  type TestServer,
} from './harness';

let dir: string;
const servers: TestServer[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  for (const t of servers.splice(0)) await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  servers.push(t);
  return t;
}
const code = (c: string) => expect.objectContaining({ code: c });

test('a reconnect with the stored ticket logs in without the password and without a hashing job', async () => {
  const t = await serve();
  const tickets = watchedTickets(dir);
  const first = await logIn(t, dir, 'alice', { register: true, tickets: tickets.store });
  expect(first.by).toBe('password');
  const jobs = t.hashJobs();
  expect(jobs).toBe(1);
  const file = tickets.store.fileFor(serverName('127.0.0.1', t.port), 'alice');
  // The ticket frame follows welcome, maybe in a later read: wait for the save.
  await tickets.saved;
  await new Promise<void>((resolve) => first.socket.once('close', resolve).end());
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  let asked = 0;
  const again = await logIn(t, dir, 'alice', {
    password: () => Promise.resolve(`${++asked}`),
  });
  expect(again.by).toBe('ticket');
  expect(asked).toBe(0); // the password was not even asked for
  expect(t.hashJobs()).toBe(jobs);
  again.socket.destroy();
});

test('a refused ticket is forgotten and the login falls back to the password (one hashing job)', async () => {
  const t = await serve();
  await logIn(t, dir, 'alice', { register: true }).then((s) => s.socket.destroy());
  const store = new TicketStore(path.join(dir, 'tickets'));
  const server = serverName('127.0.0.1', t.port);
  store.save(server, 'alice', 'v1.forged.YWxpY2U.9999999999.AAAA');
  const jobs = t.hashJobs();
  const session = await logIn(t, dir, 'alice');
  expect(session.by).toBe('password');
  expect(t.hashJobs()).toBe(jobs + 1);
  await t.waitForLog((r) => r.event === 'ticket_refused');
  session.socket.destroy();
});

test('a ticket for another user, or an expired one, is TICKET_INVALID (the reason only in the log)', async () => {
  let now = Date.now();
  const t = await serve({ ticketLifetimeMs: 60_000 });
  const a = await rawTls(t.port);
  a.send({ type: 'register', user: 'alice', password: 'correct horse battery' });
  await a.next();
  const issued = (await a.next()) as { ticket: string };
  a.socket.destroy();
  const b = await rawTls(t.port);
  b.send({ type: 'resume', user: 'bob', ticket: issued.ticket });
  expect(await b.next()).toEqual(code('TICKET_INVALID'));
  expect((await t.waitForLog((r) => r.event === 'ticket_refused')).reason).toBe('wrong-user');

  // Same keys, a clock two minutes later: the ticket has expired.
  now += 120_000;
  const later = await serve({
    ticketKeys: t.ticketKeys,
    ticketLifetimeMs: 60_000,
    ticketClock: () => now,
  });
  const c = await rawTls(later.port);
  c.send({ type: 'resume', user: 'alice', ticket: issued.ticket });
  expect(await c.next()).toEqual(code('TICKET_INVALID'));
  expect((await later.waitForLog((r) => r.event === 'ticket_refused')).reason).toBe('expired');
});

test("a ticket respelled in its MAC's unused bits is TICKET_INVALID (bad-mac), the real one still resumes", async () => {
  const t = await serve();
  const a = await rawTls(t.port);
  a.send({ type: 'register', user: 'alice', password: 'correct horse battery' });
  await a.next();
  const { ticket } = (await a.next()) as { ticket: string };
  a.socket.destroy();
  // The last of the MAC's 43 base64url characters carries 2 unused bits:
  // flipping the lowest gives the same MAC bytes in another spelling.
  const twin = respellLastCharacter(ticket);
  const b = await rawTls(t.port);
  b.send({ type: 'resume', user: 'alice', ticket: twin });
  expect(await b.next()).toEqual(code('TICKET_INVALID'));
  expect((await t.waitForLog((r) => r.event === 'ticket_refused')).reason).toBe('bad-mac');
  const c = await rawTls(t.port);
  c.send({ type: 'resume', user: 'alice', ticket });
  expect(await c.next()).toMatchObject({ type: 'welcome', user: 'alice' });
  b.socket.destroy();
  c.socket.destroy();
});

test('after a restart with the same ticket key file, a stored ticket still logs in without bcrypt', async () => {
  const keys = TicketKeys.generate();
  const users = await openUserStore({ sqlitePath: ':memory:' });
  try {
    const first = await serve({ ticketKeys: keys, store: users });
    const tickets = watchedTickets(dir);
    const session = await logIn(first, dir, 'alice', { register: true, tickets: tickets.store });
    await tickets.saved;
    session.socket.end();
    await first.close();
    servers.splice(servers.indexOf(first), 1);

    // The same identity, key file and store, on another port: a restart.
    const again = await serve({ certificate: first.certificate, ticketKeys: keys, store: users });
    const store = new TicketStore(path.join(dir, 'tickets'));
    const ticket = store.load(serverName('127.0.0.1', first.port), 'alice')!;
    store.save(serverName('127.0.0.1', again.port), 'alice', ticket);
    const resumed = await logIn(again, dir, 'alice');
    expect(resumed.by).toBe('ticket');
    expect(again.hashJobs()).toBe(0);
    resumed.socket.destroy();
  } finally {
    for (const t of servers.splice(0)) await t.close();
    await users.close();
  }
});

test('a ticket folder that cannot be written costs the ticket, not the session', async () => {
  const t = await serve();
  fs.writeFileSync(path.join(dir, 'notadir'), 'a file where the folder should be');
  let warned: (message: string) => void = () => {};
  const warning = new Promise<string>((resolve) => (warned = resolve));
  const tickets = new TicketStore(path.join(dir, 'notadir', 'tickets'), (m) => warned(m));
  // Before, the failed save threw inside the socket's data handler: the
  // client process died right after logging in.
  const session = await logIn(t, dir, 'alice', { register: true, tickets });
  expect(await warning).toMatch(
    /^cannot keep the login ticket in .*notadir.*: .*; next time, the password/,
  );
  expect(session.socket.destroyed).toBe(false);
  session.socket.destroy();
});
