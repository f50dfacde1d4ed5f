/** Jest's global teardown: drops the database and account mysql-global-setup.ts made. */
import fs from 'node:fs';
import mysql from 'mysql2/promise';
import { parseMysqlUrl } from '../src/mysql-url';
import { dropTestDatabase } from './mysql-global-setup';

export default async function globalTeardown(): Promise<void> {
  const created = globalThis.chatTestDatabase;
  if (created === undefined) return;
  globalThis.chatTestDatabase = undefined;
  const { host, port, user, password } = parseMysqlUrl(created.adminUrl);
  const admin = await mysql.createConnection({ host, port, user, password });
  try {
    await dropTestDatabase(admin, created.database, created.appUser);
  } finally {
    await admin.end();
    fs.rmSync(created.dir, { recursive: true, force: true });
  }
}
