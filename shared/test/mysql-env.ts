/**
 * Finding the test MySQL server, and what to do when there is none.
 *
 * MySQL tests run for real against the server `npm run db:setup` prepared
 * (`CHAT_DB_URL`, else the URL saved in `.data/mysql-url`). On a laptop with
 * no MySQL they print a notice and do not run; under `CI=true` a missing or
 * unreachable server is a failure, never a silent skip. The decision has to be
 * made while jest *collects* tests, which is synchronous, so reachability is
 * probed by a short child process.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { formatMysqlUrl, parseMysqlUrl, readMysqlUrlFile } from '../src/mysql-url';
import { REPO_ROOT } from './helpers';

/** The app URL for tests: `CHAT_DB_URL`, else `.data/mysql-url`, else undefined. */
export function mysqlTestUrl(): string | undefined {
  return process.env.CHAT_DB_URL || readMysqlUrlFile();
}

/** The admin URL for tests: `CHAT_DB_ADMIN_URL`, else root with no password on 127.0.0.1:3306. */
export function mysqlAdminUrl(): string {
  return process.env.CHAT_DB_ADMIN_URL || 'mysql://root@127.0.0.1:3306';
}

/** Whether this run is CI (`CI` set to anything but empty, `0` or `false`). */
export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Why MySQL at `url` cannot be used, or undefined if a TCP connection to it opens. */
function unreachableReason(url: string): string | undefined {
  const { host, port } = parseMysqlUrl(url);
  const probe = `const s = require('node:net').connect(${port}, ${JSON.stringify(host)});
    s.on('connect', () => process.exit(0));
    s.on('error', (e) => { process.stderr.write(String(e.code)); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', probe], { timeout: 5000, encoding: 'utf8' });
  if (result.status === 0) return undefined;
  return `MySQL at ${host}:${port} is unreachable (${result.stderr || 'no answer within 5 s'})`;
}

/**
 * `describe(title, body)` when MySQL at `url` is reachable. Otherwise one test
 * in its place: under CI it fails with the reason; elsewhere it prints a
 * notice and passes, so `npm test` on a laptop without MySQL still reports
 * that these tests did not run, and why.
 *
 * @param title - the suite's title
 * @param url - the MySQL URL the suite needs (undefined when none is configured)
 * @param body - defines the suite's tests; receives the URL
 */
export function describeWithMysql(
  title: string,
  url: string | undefined,
  body: (url: string) => void,
): void {
  const reason =
    url === undefined
      ? 'no CHAT_DB_URL and no .data/mysql-url: run `npm run db:setup`'
      : unreachableReason(url);
  if (reason === undefined) {
    describe(title, () => body(url!));
    return;
  }
  describe(title, () => {
    if (isCI()) {
      test('MySQL is available (required when CI=true)', () => {
        throw new Error(`${reason}; under CI the MySQL tests must run`);
      });
    } else {
      test('needs MySQL, which is not available here: these tests did not run', () => {
        console.warn(`NOTICE: ${title}: not run: ${reason}`);
      });
    }
  });
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
