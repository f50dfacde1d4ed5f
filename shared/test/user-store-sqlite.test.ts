// The embedded SQLite store: the shared contract, on a file and in memory,
// plus what only a file has (folder creation, mode 0600, WAL, two connections).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_SQLITE_PATH, openUserKeyStore, openUserStore } from '../src/user-store';
import { REPO_ROOT } from './helpers';
import { expectCode, fakeHash, uniqueName, userStoreContract } from './user-store-contract';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-sqlite-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store on a file: contract', () => {
  // Every open() in this suite is a new connection to the same file.
  userStoreContract(() =>
    openUserKeyStore({ sqlitePath: path.join(dir, 'contract', 'chat.sqlite') }),
  );
});

describe('SQLite store in memory: contract', () => {
  userStoreContract(() => openUserKeyStore({ sqlitePath: ':memory:' }));
});

describe('SQLite store on a file', () => {
  test('creates the missing folder (0700) and a file only its owner can read (0600)', async () => {
    const file = path.join(dir, 'new', 'nested', 'chat.sqlite');
    const store = await openUserStore({ sqlitePath: file });
    await store.createUser('alice', fakeHash(1));
    await store.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  test('uses WAL journaling and keeps users across reopening', async () => {
    const file = path.join(dir, 'wal.sqlite');
    const first = await openUserStore({ sqlitePath: file });
    await first.createUser('alice', fakeHash('kept'));
    await first.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const second = await openUserStore({ sqlitePath: file });
    expect(await second.findUser('alice')).toEqual({
      username: 'alice',
      passwordHash: fakeHash('kept'),
    });
    await second.close();
  });

  test('the UNIQUE constraint holds across two connections to one file', async () => {
    const file = path.join(dir, 'two.sqlite');
    const a = await openUserStore({ sqlitePath: file });
    const b = await openUserStore({ sqlitePath: file });
    const name = uniqueName('both');
    const results = await Promise.allSettled([
      a.createUser(name, fakeHash('a')),
      b.createUser(name, fakeHash('b')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await expectCode(b.createUser(name, fakeHash('again')), 'NAME_TAKEN');
    await a.close();
    await b.close();
  });

  test('a file made by an older version gets case-insensitive uniqueness when opened', async () => {
    const file = path.join(dir, 'old-schema.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY, username TEXT NOT NULL, password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
      CONSTRAINT users_username_unique UNIQUE (username))`);
    old
      .prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)')
      .run('alice', fakeHash(1));
    old.close();
    const store = await openUserStore({ sqlitePath: file });
    await expectCode(store.createUser('Alice', fakeHash(2)), 'NAME_TAKEN');
    expect(await store.findUser('alice')).toEqual({ username: 'alice', passwordHash: fakeHash(1) });
    await store.close();
  });

  test('a file that already holds two names differing only by case is refused with a clear reason', async () => {
    const file = path.join(dir, 'old-duplicates.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY, username TEXT NOT NULL, password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
      CONSTRAINT users_username_unique UNIQUE (username))`);
    const insert = old.prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)');
    insert.run('bob', fakeHash(1));
    insert.run('BOB', fakeHash(2));
    old.close();
    const error = await openUserStore({ sqlitePath: file }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/differ only by case/);
  });

  test('describes itself without surprises, and the default file lives in .data/', async () => {
    const store = await openUserStore({ sqlitePath: ':memory:' });
    expect(store.description).toBe('SQLite in memory');
    await store.close();
    expect(path.basename(path.dirname(DEFAULT_SQLITE_PATH))).toBe('.data');
    const onFile = await openUserStore({ sqlitePath: path.join(dir, 'described.sqlite') });
    expect(onFile.description).toMatch(/^SQLite file .*described\.sqlite$/);
    await onFile.close();
  });

  test('a file where its folder should be is BAD_ARGUMENT naming that file', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'a file where a folder should be');
    const opening = openUserStore({ sqlitePath: path.join(blocker, 'chat.sqlite') });
    await expect(opening).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining(`${blocker} is a file, not a folder`),
    });
  });

  test('a file SQLite cannot open is SERVICE_UNAVAILABLE with the path in the message', async () => {
    const garbage = path.join(dir, 'garbage.sqlite');
    fs.writeFileSync(garbage, 'this is not a SQLite database, not even its header.');
    const opening = openUserStore({ sqlitePath: garbage });
    await expect(opening).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringContaining('garbage.sqlite'),
    });
  });
});

test('only the chosen driver is loaded: a SQLite store never loads mysql2', () => {
  // A fresh process, so nothing else has loaded either driver yet. It prints
  // which drivers are in the module cache before and after opening SQLite.
  const script = `
    const loaded = () => ['mysql2', 'better-sqlite3'].filter((name) =>
      Object.keys(require.cache).some((file) => file.includes('/node_modules/' + name + '/')));
    const { openUserStore } = require('./shared/src/user-store');
    const before = loaded();
    openUserStore({ sqlitePath: ':memory:' }).then(async (store) => {
      console.log(JSON.stringify({ before, after: loaded() }));
      await store.close();
    });`;
  const output = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  expect(JSON.parse(output)).toEqual({ before: [], after: ['better-sqlite3'] });
});
