/**
 * Finding the test MySQL server, and what to do when there is none.
 *
 * Jest's global setup (mysql-global-setup.ts) makes a database and app
 * account for this run alone and passes the URLs down in the environment;
 * this module reads them. On a laptop with no MySQL the MySQL suites are
 * skipped, and Jest's summary counts them as skipped (the reason is printed
 * once, by the global setup); under `CI=true` an unreachable server is a
 * failure, never a silent skip.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { formatMysqlUrl, parseMysqlUrl } from '../src/mysql-url';
import { REPO_ROOT } from './helpers';

/** The environment variables the global setup fills in for the test workers. */
export const TEST_DB_ENV = {
  /** The app URL of this run's own database (or the developer's `CHAT_DB_URL`). */
  url: 'CHAT_TEST_DB_URL',
  /** The admin URL, set only when it was reachable. */
  adminUrl: 'CHAT_TEST_DB_ADMIN_URL',
  /** Why MySQL cannot be used, when it cannot. */
  unavailable: 'CHAT_TEST_DB_UNAVAILABLE',
} as const;

/** The app URL for tests, or undefined when there is no usable MySQL. */
export function mysqlTestUrl(): string | undefined {
  return process.env[TEST_DB_ENV.url] || undefined;
}

/** The admin URL for tests that create their own databases, or undefined when unreachable. */
export function mysqlAdminUrl(): string | undefined {
  return process.env[TEST_DB_ENV.adminUrl] || undefined;
}

/** The admin URL to try: `CHAT_DB_ADMIN_URL`, else root with no password on 127.0.0.1:3306. */
export function mysqlAdminUrlSetting(): string {
  return process.env.CHAT_DB_ADMIN_URL || 'mysql://root@127.0.0.1:3306';
}

/** Whether this run is CI (`CI` set to anything but empty, `0` or `false`). */
export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

// A URL nothing listens on: the skipped suites' bodies still run (to declare
// their tests), but none of their hooks or tests do.
const NOWHERE = 'mysql://nobody@127.0.0.1:9/none';

/**
 * `describe(title, body)` when MySQL is available (`url` is set). Otherwise
 * the same suite as `describe.skip`, so every one of its tests is counted as
 * skipped in Jest's summary; under CI, one failing test instead, with the reason.
 *
 * @param title - the suite's title
 * @param url - the URL the suite needs (undefined when MySQL is unavailable)
 * @param body - defines the suite's tests; receives the URL
 */
export function describeWithMysql(
  title: string,
  url: string | undefined,
  body: (url: string) => void,
): void {
  if (url !== undefined) {
    describe(title, () => body(url));
    return;
  }
  const reason =
    process.env[TEST_DB_ENV.unavailable] ?? 'no MySQL configured (see shared/test/mysql-env.ts)';
  if (isCI()) {
    describe(title, () => {
      test('MySQL is available (required when CI=true)', () => {
        throw new Error(`${reason}; under CI the MySQL tests must run`);
      });
    });
    return;
  }
  describe.skip(`${title} (skipped: ${reason})`, () => body(NOWHERE));
}

/** A throw-away database made from the committed schema, and how to drop it. */
export interface ScratchDatabase {
  /** A URL (the admin account) for the scratch database. */
  url: string;
  /** Drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates `chat_test_<random>` with the admin account and runs the committed
 * schema file in it, statement by statement (as `npm run db:setup` does), so
 * a test exercises the schema this commit ships, whatever state the shared
 * `chat_course` database is in.
 *
 * @param adminUrl - the admin URL (see {@link mysqlAdminUrl})
 */
export async function scratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const admin = parseMysqlUrl(adminUrl);
  const database = `chat_test_${randomBytes(4).toString('hex')}`;
  const options = {
    host: admin.host,
    port: admin.port,
    user: admin.user,
    password: admin.password,
  };
  const conn = await mysql.createConnection(options);
  try {
    await conn.query('CREATE DATABASE ?? CHARACTER SET utf8mb4', [database]);
    await conn.query('USE ??', [database]);
    const schema = readFileSync(path.join(REPO_ROOT, 'stage6-auth', 'sql', 'schema.sql'), 'utf8')
      .split('\n')
      .filter((line) => !line.trim().startsWith('--'))
      .join('\n');
    for (const statement of schema.split(';').map((s) => s.trim())) {
      if (statement !== '') await conn.query(statement);
    }
  } finally {
    await conn.end();
  }
  return {
    url: formatMysqlUrl({ ...admin, database }),
    drop: async () => {
      const c = await mysql.createConnection(options);
      await c.query('DROP DATABASE IF EXISTS ??', [database]);
      await c.end();
    },
  };
}
