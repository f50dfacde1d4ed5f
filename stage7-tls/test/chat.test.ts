// Stage 7 end to end on real TLS, port 0: clients pin the server's key on
// first use, log in with a password inside TLS, chat in plain text frames
// (which only the server can read), and the server's logs keep no secret.
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { LoginTickets } from '../../shared/src/login-ticket';
import { TicketStore } from '../../shared/src/ticket-store';
import { LineReader } from '../../shared/test/helpers';
import type { LoggedIn, ShownFrame } from '../src/client-login';
import { runClient } from '../src/client';
import {
  logIn,
  PASSWORD,
  pinTo,
  rawTls,
  startTestServer,
  tempDir,
  type RawTls,
  type TestServer,
} from './harness';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';

let t: TestServer;
let dir: string;
const open: LoggedIn[] = [];

beforeEach(async () => {
  t = await startTestServer();
  dir = tempDir();
});
afterEach(async () => {
  for (const session of open.splice(0)) session.socket.destroy();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function enter(user: string, register = true): Promise<LoggedIn> {
  const session = await logIn(t, dir, user, { register });
  open.push(session);
  return session;
}

function nextFrame(session: LoggedIn): Promise<ShownFrame> {
  return new Promise((resolve, reject) => {
    void session.frames.next().then((d) => {
      if (d === undefined) reject(new Error('closed'));
      else if (!d.ok) reject(d.error);
      else resolve(d.frame);
    });
  });
}

test('two clients pinned on first use chat; the pin is kept in a 0600 known-servers file', async () => {
  const pinned: string[] = [];
  const alice = await logIn(t, dir, 'alice', { register: true, onPinned: (s) => pinned.push(s) });
  open.push(alice);
  expect(pinned).toEqual([`127.0.0.1:${t.port}`]);
  const file = path.join(dir, 'known_servers');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file, 'utf8')).toContain(t.certificate.fingerprint);

  const bob = await enter('bob');
  expect(bob.username).toBe('bob');
  expect(bob.fingerprint).toBe(t.certificate.fingerprint);
  expect(await nextFrame(alice)).toEqual({ type: 'joined', who: 'bob', online: 2 });

  bob.socket.write('{"type":"chat","text":"hello, alice ☕"}\n');
  expect(await nextFrame(alice)).toEqual({ type: 'chat', from: 'bob', text: 'hello, alice ☕' });
  alice.socket.write('{"type":"who"}\n');
  expect(await nextFrame(alice)).toEqual({ type: 'who', count: 2, online: ['alice', 'bob'] });
});

test('the server labels a chat with the name the connection logged in as; a "from" field is refused', async () => {
  const alice = await enter('alice');
  const bob = await enter('bob');
  await nextFrame(alice); // joined
  bob.socket.write('{"type":"chat","from":"alice","text":"I am alice"}\n');
  expect(await nextFrame(bob)).toEqual(
    expect.objectContaining({ type: 'error', code: 'BAD_FRAME' }),
  );
  bob.socket.write('{"type":"chat","text":"really bob"}\n');
  expect(await nextFrame(alice)).toEqual({ type: 'chat', from: 'bob', text: 'really bob' });
});

test('a frame before login is NOT_LOGGED_IN, then the connection closes', async () => {
  const raw = await rawTls(t.port);
  raw.send({ type: 'chat', text: 'hi' });
  expect(await raw.next()).toEqual(
    expect.objectContaining({ type: 'error', code: 'NOT_LOGGED_IN' }),
  );
  expect(await raw.next()).toBeUndefined();
});

test('an independent client written from the protocol document logs in and chats (raw frames)', async () => {
  const a = await rawTls(t.port);
  a.send({ type: 'register', user: 'carol', password: PASSWORD });
  expect(await a.next()).toEqual({ type: 'welcome', user: 'carol', count: 1, online: ['carol'] });
  const ticket = await a.next();
  expect(ticket).toEqual({
    type: 'ticket',
    ticket: expect.stringMatching(/^v1\./),
    expires: expect.any(String),
  });
  const b = await rawTls(t.port);
  b.send({ type: 'resume', user: 'carol', ticket: (ticket as { ticket: string }).ticket });
  expect(await b.next()).toEqual(
    expect.objectContaining({ type: 'error', code: 'ALREADY_LOGGED_IN' }),
  );
  a.socket.end();
  await once(a.socket, 'close');
  const c = await rawTls(t.port);
  c.send({ type: 'resume', user: 'carol', ticket: (ticket as { ticket: string }).ticket });
  expect(await c.next()).toEqual({ type: 'welcome', user: 'carol', count: 1, online: ['carol'] });
  c.send({ type: 'pong' });
  c.send({ type: 'who' });
  expect(await c.next()).toEqual({ type: 'who', count: 1, online: ['carol'] });
  c.socket.destroy();
});

test('the logs name users and events, never a password, a ticket or a message', async () => {
  const alice = await enter('alice');
  const bob = await enter('bob');
  await nextFrame(alice);
  bob.socket.write('{"type":"chat","text":"the secret plan"}\n');
  await nextFrame(alice);
  const ticket = new TicketStore(path.join(dir, 'tickets')).load(`127.0.0.1:${t.port}`, 'bob');
  expect(ticket).toBeDefined();
  const logs = t.logLines.join('\n');
  expect(logs).toContain('register_ok');
  expect(logs).not.toContain(PASSWORD);
  expect(logs).not.toContain('the secret plan');
  expect(logs).not.toContain(ticket!);
});

test('the terminal client: --password-stdin, chat to stdout, /who on stderr; the server closing says bye', async () => {
  const alice = await enter('alice');
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  const errors = new LineReader(errorOutput);
  const done = runClient({
    host: '127.0.0.1',
    port: t.port,
    trust: pinTo(dir, t.certificate.fingerprint),
    username: 'bob',
    register: true,
    passwordStdin: true,
    input,
    output,
    errorOutput,
    terminal: false,
  });
  input.write(`${PASSWORD}\nhi from the terminal\n/who\n`);
  expect(await nextFrame(alice)).toEqual({ type: 'joined', who: 'bob', online: 2 });
  expect(await nextFrame(alice)).toEqual({
    type: 'chat',
    from: 'bob',
    text: 'hi from the terminal',
  });
  await errors.waitFor(
    (line) => line.includes('2 online: alice, bob') && !line.includes('logged in'),
  );
  alice.socket.write('{"type":"chat","text":"hi bob"}\n');
  const lines = new LineReader(output);
  expect(await lines.next()).toBe('alice: hi bob');
  await t.server.close(); // everyone gets "bye"
  await errors.waitFor((line) => line.includes('server says goodbye'));
  await expect(done).resolves.toBe(0);
});

test('close() resolves only once every connection has closed and its departure is logged', async () => {
  const users = Array.from({ length: 20 }, (_, i) => `user${i}`);
  const clients = await Promise.all(
    users.map(async (user) => {
      await t.store.createUser(user, 'not-a-real-hash');
      const client = await rawTls(t.port);
      client.send({
        type: 'resume',
        user,
        ticket: new LoginTickets({ keys: t.ticketKeys }).issue(user).ticket,
      });
      await client.next(); // welcome
      return client;
    }),
  );
  await t.server.close();
  // Each connection's own 'close' handling (its session released, its line
  // logged) is part of closing: none of it may run after close() resolved.
  expect(t.countLogs((r) => r.event === 'disconnect')).toBe(users.length);
  for (const client of clients) expect(client.socket.closed).toBe(true);
});

test('a chat that no longer fits once labelled with its sender is refused to the sender, not lost at every reader', async () => {
  // A 32-character name and a frame just under the limit whose text is
  // mostly control characters (escaped to 6 bytes each): accepted as sent,
  // but the labelled frame is over the limit. Before, it was relayed, every
  // reader dropped it as FRAME_TOO_LARGE, and the sender heard nothing.
  const name = 'a'.repeat(32);
  const sender = await rawTls(t.port);
  sender.send({ type: 'register', user: name, password: PASSWORD });
  expect(await sender.next()).toMatchObject({ type: 'welcome' });
  const reader = await rawTls(t.port);
  reader.send({ type: 'register', user: 'bob', password: PASSWORD });
  expect(await reader.next()).toMatchObject({ type: 'welcome' });
  const chats: string[] = [];
  const budget = MAX_FRAME_BYTES - '{"type":"chat","text":""}'.length;
  const escapes = Math.floor((budget - 4096) / 5);
  const text = '\u0001'.repeat(escapes) + 'x'.repeat(4096 - escapes);
  sender.socket.write(`${JSON.stringify({ type: 'chat', text })}\n`);
  const refusal = await nextOf(sender, 'error');
  expect(refusal).toMatchObject({ code: 'FRAME_TOO_LARGE' });
  sender.send({ type: 'chat', text: 'after' });
  for (;;) {
    const frame = await reader.next();
    if (frame?.type !== 'chat') continue;
    chats.push(frame.text.slice(0, 5));
    if (frame.text === 'after') break;
  }
  expect(chats).toEqual(['after']);
  sender.socket.destroy();
  reader.socket.destroy();
});

/** The next frame of `type` a raw client receives (others are skipped). */
async function nextOf(client: RawTls, type: string) {
  for (;;) {
    const frame = await client.next();
    if (frame === undefined || frame.type === type) return frame;
  }
}
