// Registration and login through the wire: the happy path, every refusal with
// its stable code, hostile values (SQL-shaped, non-string), replayed and
// mislabelled credential boxes, and frames sent before login.
import { generateKey } from '../../shared/src/crypto';
import { rawAuth, rawConnect, sealCredentials, startTestServer, type TestServer } from './harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const alice = await rawConnect(t.port);
  expect(await rawAuth(alice, t.key, 'register', 'alice', 'alice-password')).toMatchObject({
    type: 'welcome',
    user: 'alice',
  });
  alice.socket.end();
  await alice.closed;
});
afterAll(() => t.close());

async function attempt(type: 'login' | 'register', username: unknown, password: unknown) {
  const conn = await rawConnect(t.port);
  const answer = await rawAuth(conn, t.key, type, username, password);
  return { conn, answer };
}

/** Expects an error frame with `code`, then the server closing the connection. */
async function expectRefused(
  type: 'login' | 'register',
  username: unknown,
  password: unknown,
  code: string,
) {
  const { conn, answer } = await attempt(type, username, password);
  expect(answer).toMatchObject({ type: 'error', code });
  await conn.closed;
  return answer;
}

test('register then login: welcome with the username and who is online', async () => {
  const { conn, answer } = await attempt('login', 'alice', 'alice-password');
  expect(answer).toEqual({ type: 'welcome', user: 'alice', count: 1, online: ['alice'] });
  conn.socket.end();
  await conn.closed;
});

test('a wrong password gets AUTH_FAILED and the server closes the connection', async () => {
  await expectRefused('login', 'alice', 'not-her-password', 'AUTH_FAILED');
});

test('an unknown user gets exactly the same answer as a wrong password', async () => {
  const wrong = await expectRefused('login', 'alice', 'not-her-password', 'AUTH_FAILED');
  const unknown = await expectRefused('login', 'nobody', 'not-her-password', 'AUTH_FAILED');
  expect(unknown).toEqual(wrong);
});

test('registering a taken name gets NAME_TAKEN', async () => {
  await expectRefused('register', 'alice', 'another-password', 'NAME_TAKEN');
});

test.each([
  ["admin'--"],
  ["' OR '1'='1"],
  ['alice; DROP TABLE users'],
  ['alice\n'],
  [''],
  ['a'.repeat(33)],
])('the SQL-shaped or invalid username %j gets BAD_USERNAME', async (username) => {
  await expectRefused('login', username, 'whatever-password', 'BAD_USERNAME');
  await expectRefused('register', username, 'whatever-password', 'BAD_USERNAME');
});

test.each([[{}], [{ $gt: '' }], [['alice']], [42], [0], [null], [true]])(
  'the non-string username %j gets BAD_USERNAME, never a query',
  async (username) => {
    await expectRefused('login', username, 'alice-password', 'BAD_USERNAME');
  },
);

test.each([[{}], [['alice-password']], [42], [null], [true]])(
  'the non-string password %j gets BAD_PASSWORD',
  async (password) => {
    await expectRefused('login', 'alice', password, 'BAD_PASSWORD');
  },
);

test('passwords: too short or over 72 UTF-8 bytes are refused, not truncated', async () => {
  await expectRefused('register', 'shorty', 'short', 'BAD_PASSWORD');
  await expectRefused('register', 'longy', 'é'.repeat(37), 'BAD_PASSWORD'); // 74 bytes
  // 72 bytes of 'a' then anything: bcrypt would have cut it; we refuse instead.
  await expectRefused('register', 'longy', 'a'.repeat(72) + 'X', 'BAD_PASSWORD');
});

test('an SQL-shaped password is just a password', async () => {
  const sqlish = "' OR '1'='1' --";
  const { conn, answer } = await attempt('register', 'bobby', sqlish);
  expect(answer).toMatchObject({ type: 'welcome', user: 'bobby' });
  conn.socket.end();
  await conn.closed;
  await expectRefused('login', 'bobby', "' OR '1'='2' --", 'AUTH_FAILED');
});

test('credentials that are not an exact JSON object get BAD_FRAME', async () => {
  for (const credentials of [
    'just a string',
    ['alice', 'alice-password'],
    { username: 'alice', password: 'alice-password' }, // no challenge
    { username: 'alice', password: 'alice-password', challenge: 'x', admin: true },
  ]) {
    const conn = await rawConnect(t.port);
    conn.sendJson({ type: 'login', box: sealCredentials(t.key, 'login', credentials) });
    expect(await conn.frame()).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
    await conn.closed;
  }
});

test('a login box replayed on another connection is refused (the challenge differs)', async () => {
  const first = await rawConnect(t.port);
  const box = sealCredentials(t.key, 'login', {
    username: 'alice',
    password: 'alice-password',
    challenge: first.challenge,
  });
  first.socket.destroy(); // the recorded box was never used
  const replay = await rawConnect(t.port);
  replay.sendJson({ type: 'login', box });
  expect(await replay.frame()).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  await replay.closed;
});

test('a box sealed for "register" does not open as a "login" (AD binds the type)', async () => {
  const conn = await rawConnect(t.port);
  const creds = { username: 'alice', password: 'alice-password', challenge: conn.challenge };
  conn.sendJson({ type: 'login', box: sealCredentials(t.key, 'login', creds, 'register') });
  // The words point at the key file: a wrong key at login is not a wrong password.
  expect(await conn.frame()).toMatchObject({
    type: 'error',
    code: 'DECRYPT_FAILED',
    message: 'your login could not be opened: is your key file the room key of this server?',
  });
  await conn.closed;
});

test('credentials sealed with another key get DECRYPT_FAILED', async () => {
  const conn = await rawConnect(t.port);
  const creds = { username: 'alice', password: 'alice-password', challenge: conn.challenge };
  conn.sendJson({ type: 'login', box: sealCredentials(generateKey(), 'login', creds) });
  // The words point at the key file: a wrong key at login is not a wrong password.
  expect(await conn.frame()).toMatchObject({
    type: 'error',
    code: 'DECRYPT_FAILED',
    message: 'your login could not be opened: is your key file the room key of this server?',
  });
  await conn.closed;
});

test.each([
  [{ type: 'chat', box: Buffer.alloc(40).toString('base64') }, 'NOT_LOGGED_IN'],
  [{ type: 'who' }, 'NOT_LOGGED_IN'],
  [{ type: 'login' }, 'BAD_FRAME'],
  [{ type: 'login', box: 'not base64!' }, 'BAD_FRAME'],
  [{ type: 'sudo' }, 'BAD_FRAME'],
])('before login, %j gets %s and the connection is closed', async (frame, code) => {
  const conn = await rawConnect(t.port);
  conn.sendJson(frame);
  expect(await conn.frame()).toMatchObject({ type: 'error', code });
  await conn.closed;
});

test('the logs record failures with a connection id, and never a password', async () => {
  await expectRefused('login', 'alice', 'a-secret-guess', 'AUTH_FAILED');
  const failure = await t.waitForLog((r) => r.event === 'login_failed' && r.user === 'alice');
  expect(failure).toMatchObject({ code: 'AUTH_FAILED', conn: expect.any(Number) });
  const all = t.logLines.join('\n');
  for (const secret of ['a-secret-guess', 'alice-password', "' OR '1'='1' --"]) {
    expect(all).not.toContain(secret);
  }
});
