// `npm run db:setup`, run as a process the way a user (and CI) runs it, in a
// database and with an app account of its own so the real chat_course is
// never touched; then what the app account may and may not do.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import { runScript } from '../../shared/test/helpers';
import { describeWithMysql, mysqlAdminUrl } from '../../shared/test/mysql-env';

/** Runs `npm run db:setup` with `env`; resolves with its exit code and output. */
async function dbSetup(env: NodeJS.ProcessEnv, args: string[] = []) {
  const proc = runScript('db:setup', args, env);
  proc.child.stdin!.end();
  const code = await proc.exit;
  await Promise.all([proc.stdout.ended, proc.stderr.ended]);
  return { code, stdout: proc.stdout.lines, stderr: proc.stderr.lines };
}

/** The CHAT_DB_URL a run printed (its password masked). */
function printedUrl(stdout: string[]): string {
  const line = stdout.find((l) => l.startsWith('CHAT_DB_URL='));
  if (line === undefined) throw new Error(`no CHAT_DB_URL line in:\n${stdout.join('\n')}`);
  return line.slice('CHAT_DB_URL='.length);
}

/** The URL a run saved, and a check that its output showed it without the password. */
function savedUrl(file: string, stdout: string[]): string {
  const url = fs.readFileSync(file, 'utf8').trim();
  const { password } = parseMysqlUrl(url);
  expect(password.length).toBeGreaterThanOrEqual(16);
  expect(stdout.join('\n')).not.toContain(password);
  expect(printedUrl(stdout)).toBe(formatMysqlUrl({ ...parseMysqlUrl(url), password: '***' }));
  return url;
}

describe('db:setup failures (no database needed)', () => {
  test('an unreachable admin URL exits 1 with one clear line, and no admin password', async () => {
    const run = await dbSetup({ CHAT_DB_ADMIN_URL: 'mysql://root:admin-secret-pw@127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(
      /^error: cannot reach MySQL at root@127\.0\.0\.1:1 .*\[SERVICE_UNAVAILABLE\]$/,
    );
    expect([...run.stdout, ...run.stderr].join('\n')).not.toContain('admin-secret-pw');
  });

  test('a database name that is not a plain identifier is a usage error (exit 2)', async () => {
    const run = await dbSetup({ CHAT_DB_NAME: 'chat`; DROP DATABASE mysql; --' });
    expect(run.code).toBe(2);
    expect(run.stderr).toEqual([expect.stringMatching(/CHAT_DB_NAME.*\[BAD_ARGUMENT\]$/)]);
  });
});

describeWithMysql('db:setup against MySQL', mysqlAdminUrl(), (adminUrl) => {
  const id = randomBytes(4).toString('hex');
  const database = `chat_test_${id}`;
  const appUser = `chat_t_${id}`;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let admin: mysql.Connection;
  let url: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-db-setup-'));
    env = {
      CHAT_DB_ADMIN_URL: adminUrl,
      CHAT_DB_NAME: database,
      CHAT_DB_APP_USER: appUser,
      CHAT_DB_URL_FILE: path.join(dir, 'mysql-url'),
      CHAT_DB_URL: '', // a developer's own setting must not count as a known password
    };
    admin = await mysql.createConnection(adminUrl);
  });
  afterAll(async () => {
    // Only what this suite created: its own database and its own account.
    await admin.query('DROP DATABASE IF EXISTS ??', [database]);
    const [hosts] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT Host FROM mysql.user WHERE User = ?',
      [appUser],
    );
    for (const { Host } of hosts) await admin.query('DROP USER IF EXISTS ?@?', [appUser, Host]);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('saves the CHAT_DB_URL in a 0600 file, prints it without the password; a second run keeps it', async () => {
    const first = await dbSetup(env);
    expect(first).toMatchObject({ code: 0, stderr: [] });
    url = savedUrl(env.CHAT_DB_URL_FILE!, first.stdout);
    expect(parseMysqlUrl(url)).toMatchObject({ user: appUser, database });
    expect(fs.statSync(env.CHAT_DB_URL_FILE!).mode & 0o777).toBe(0o600);

    const second = await dbSetup(env); // idempotent: same result, nothing broken
    expect(second).toMatchObject({ code: 0, stderr: [] });
    expect(savedUrl(env.CHAT_DB_URL_FILE!, second.stdout)).toBe(url);
    expect(second.stdout.join('\n')).toContain('kept');
  });

  test('the app account can SELECT and INSERT on its table', async () => {
    const app = await mysql.createConnection(url);
    await app.execute('INSERT INTO users (username, password_hash) VALUES (?, ?)', [
      'someone',
      'h1',
    ]);
    const [rows] = await app.execute<mysql.RowDataPacket[]>(
      'SELECT username FROM users WHERE username = ?',
      ['someone'],
    );
    expect(rows).toEqual([{ username: 'someone' }]);
    await app.end();
  });

  test('the app account cannot UPDATE, DELETE, DROP, ALTER, create tables or read other tables', async () => {
    const app = await mysql.createConnection(url);
    for (const sql of [
      "UPDATE users SET password_hash = 'x'",
      'DELETE FROM users',
      'DROP TABLE users',
      'TRUNCATE TABLE users',
      'ALTER TABLE users ADD COLUMN is_admin INT',
      "UPDATE user_keys SET signing_key = 'x'",
      'DELETE FROM user_keys',
      'CREATE TABLE stolen (x INT)',
      'SELECT User, Password FROM mysql.user',
    ]) {
      await expect(app.query(sql)).rejects.toMatchObject({
        code: expect.stringMatching(/^ER_\w*DENIED/),
      });
    }
    await app.end();
    // And the table is intact: the refusals were refusals.
    const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT password_hash FROM ??.users', [
      database,
    ]);
    expect(rows).toEqual([{ password_hash: 'h1' }]);
  });

  test('what the grant does NOT rule out: reading every hash, inserting any row', async () => {
    // Candidly: a compromised server can still dump all password hashes and
    // register accounts of its choosing. bcrypt's cost is the defence for the first.
    const app = await mysql.createConnection(url);
    await app.execute('INSERT INTO users (username, password_hash) VALUES (?, ?)', [
      'junk',
      'not-a-hash',
    ]);
    const [rows] = await app.query<mysql.RowDataPacket[]>(
      'SELECT username, password_hash FROM users',
    );
    expect(rows.length).toBe(2);
    await app.end();
  });

  test('a re-run removes privileges granted by hand since', async () => {
    const [[account]] = (await admin.query('SELECT Host FROM mysql.user WHERE User = ?', [
      appUser,
    ])) as [mysql.RowDataPacket[], unknown];
    await admin.query('GRANT UPDATE, DELETE ON ??.users TO ?@?', [
      database,
      appUser,
      account!.Host,
    ]);
    expect(await dbSetup(env)).toMatchObject({ code: 0 });
    const app = await mysql.createConnection(url);
    await expect(app.query('DELETE FROM users')).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    await app.end();
  });

  // A second checkout (or a CI clone) of the same machine has no URL file. It
  // must not silently give the account a new password: the first checkout's
  // saved URL would stop working without a word.
  test('a checkout without a working password is refused, and the saved URL elsewhere keeps working', async () => {
    const elsewhere = { ...env, CHAT_DB_URL_FILE: path.join(dir, 'second-checkout', 'mysql-url') };
    const run = await dbSetup(elsewhere);
    expect(run.code).toBe(2);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(/already exists and no password this checkout has for it works/);
    expect(run.stderr[0]).toMatch(/--rotate-password.*\[BAD_ARGUMENT\]$/);
    expect(fs.existsSync(elsewhere.CHAT_DB_URL_FILE)).toBe(false);
    const app = await mysql.createConnection(url); // the first checkout is untouched
    await app.end();
  });

  test("given the other checkout's URL in CHAT_DB_URL, a checkout keeps that password and saves it", async () => {
    const elsewhere = {
      ...env,
      CHAT_DB_URL_FILE: path.join(dir, 'third-checkout', 'mysql-url'),
      CHAT_DB_URL: url,
    };
    const run = await dbSetup(elsewhere);
    expect(run).toMatchObject({ code: 0, stderr: [] });
    expect(run.stdout.join('\n')).toContain('its working password kept');
    expect(savedUrl(elsewhere.CHAT_DB_URL_FILE, run.stdout)).toBe(url);
  });

  test('--rotate-password sets a new password on purpose; the old URL stops working', async () => {
    const run = await dbSetup(env, ['--rotate-password']);
    expect(run).toMatchObject({ code: 0, stderr: [] });
    expect(run.stdout.join('\n')).toContain('other checkouts need this URL now');
    const fresh = savedUrl(env.CHAT_DB_URL_FILE!, run.stdout);
    expect(fresh).not.toBe(url);
    await expect(mysql.createConnection(url)).rejects.toMatchObject({
      code: 'ER_ACCESS_DENIED_ERROR',
    });
    const app = await mysql.createConnection(fresh);
    await app.end();
  });
});
