/**
 * Jest's global setup: a MySQL database and app account of this run's own.
 *
 * The MySQL suites never use the `chat_course` database or the `chat_app`
 * account that `npm run db:setup` made for the learner: two clones running
 * `npm test` at once (or a developer's server beside CI) must not share
 * tables, names or a password one of them could rotate. So each run makes,
 * through the real `setupDatabase` and the admin URL (`CHAT_DB_ADMIN_URL`,
 * default root with no password on 127.0.0.1:3306), a throw-away database
 * `chat_jest_<time>_<random>` with its own least-privilege account, hands its
 * URL to the test workers in `CHAT_TEST_DB_URL`, and drops both at the end
 * (mysql-global-teardown.ts). Leftovers of a run that was killed are swept
 * once they are a day old.
 *
 * `CHAT_DB_URL` in the environment overrides the app URL (a developer's own
 * database). When MySQL cannot be reached, the reason is printed once here
 * and the MySQL suites are skipped (mysql-env.ts); under `CI=true` they fail.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { parseMysqlUrl } from '../src/mysql-url';
import { setupDatabase } from '../../stage6-auth/src/db-setup';
import { isCI, mysqlAdminUrlSetting, TEST_DB_ENV } from './mysql-env';

const PREFIX = 'chat_jest_';
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** What the teardown needs to undo, kept on globalThis (setup and teardown share a process). */
export interface CreatedTestDatabase {
  adminUrl: string;
  database: string;
  appUser: string;
  dir: string;
}

declare global {
  var chatTestDatabase: CreatedTestDatabase | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Only this run decides: a Jest started from inside a test must not inherit its parent's.
  for (const name of Object.values(TEST_DB_ENV)) delete process.env[name];
  const adminUrl = mysqlAdminUrlSetting();
  let admin: mysql.Connection;
  try {
    const { host, port, user, password } = parseMysqlUrl(adminUrl);
    admin = await mysql.createConnection({ host, port, user, password, connectTimeout: 3000 });
  } catch (err) {
    const { host, port } = parseMysqlUrl(adminUrl);
    const why = (err as { code?: string }).code ?? (err as Error).message;
    const reason = `MySQL admin at ${host}:${port} is unavailable (${why})`;
    process.env[TEST_DB_ENV.unavailable] = reason;
    if (process.env.CHAT_DB_URL) process.env[TEST_DB_ENV.url] = process.env.CHAT_DB_URL;
    const what = isCI() ? 'CI=true: the MySQL suites will FAIL' : 'the MySQL suites are skipped';
    process.stderr.write(`\nNOTICE: ${reason}; ${what} (set CHAT_DB_ADMIN_URL)\n`);
    return;
  }
  try {
    await sweepStale(admin);
  } finally {
    await admin.end();
  }
  process.env[TEST_DB_ENV.adminUrl] = adminUrl;
  if (process.env.CHAT_DB_URL) {
    process.env[TEST_DB_ENV.url] = process.env.CHAT_DB_URL;
    return;
  }
  const id = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const created: CreatedTestDatabase = {
    adminUrl,
    database: `${PREFIX}${id}`,
    appUser: `chat_j_${id}`,
    dir: fs.mkdtempSync(path.join(os.tmpdir(), 'chat-jest-db-')),
  };
  globalThis.chatTestDatabase = created;
  const { url } = await setupDatabase({
    adminUrl,
    database: created.database,
    appUser: created.appUser,
    urlFile: path.join(created.dir, 'mysql-url'),
  });
  process.env[TEST_DB_ENV.url] = url;
}

/** Drops the databases and accounts of earlier runs that never reached their teardown. */
async function sweepStale(admin: mysql.Connection): Promise<void> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [`${PREFIX.replace(/_/g, '\\_')}%`],
  );
  for (const { name } of rows as { name: string }[]) {
    const id = name.slice(PREFIX.length);
    const born = parseInt(id.split('_')[0] ?? '', 36);
    if (!(Date.now() - born > STALE_AFTER_MS)) continue;
    await dropTestDatabase(admin, name, `chat_j_${id}`);
  }
}

/**
 * Drops one run's database and every host entry of its account.
 *
 * @param admin - an admin connection
 * @param database - `chat_jest_…`
 * @param appUser - `chat_j_…`
 */
export async function dropTestDatabase(
  admin: mysql.Connection,
  database: string,
  appUser: string,
): Promise<void> {
  if (!database.startsWith(PREFIX) || !appUser.startsWith('chat_j_')) {
    throw new Error(`refusing to drop ${database} / ${appUser}: not a test run's`);
  }
  await admin.query('DROP DATABASE IF EXISTS ??', [database]);
  const [hosts] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT Host FROM mysql.user WHERE User = ?',
    [appUser],
  );
  for (const { Host } of hosts) await admin.query('DROP USER IF EXISTS ?@?', [appUser, Host]);
}
