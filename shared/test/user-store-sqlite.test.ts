// The embedded SQLite store: the shared contract, on a file and in memory,
// plus what only a file has (folder creation, mode 0600, WAL, two connections).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_SQLITE_PATH, openUserStore } from '../src/user-store';
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
  userStoreContract(() => openUserStore({ sqlitePath: path.join(dir, 'contract', 'chat.sqlite') }));
});

describe('SQLite store in memory: contract', () => {
  userStoreContract(() => openUserStore({ sqlitePath: ':memory:' }));
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

  test('describes itself without surprises, and the default file lives in .data/', async () => {
    const store = await openUserStore({ sqlitePath: ':memory:' });
    expect(store.description).toBe('SQLite in memory');
    await store.close();
    expect(path.basename(path.dirname(DEFAULT_SQLITE_PATH))).toBe('.data');
    const onFile = await openUserStore({ sqlitePath: path.join(dir, 'described.sqlite') });
    expect(onFile.description).toMatch(/^SQLite file .*described\.sqlite$/);
    await onFile.close();
  });

  test('an unusable path is SERVICE_UNAVAILABLE with the path in the message', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'a file where a folder should be');
    await expectCode(
      openUserStore({ sqlitePath: path.join(blocker, 'chat.sqlite') }),
      'SERVICE_UNAVAILABLE',
    );
  });
});
