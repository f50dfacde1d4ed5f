/**
 * The contract every UserStore keeps, as one test suite that each store's
 * test file runs with its own factory. Call it inside a `describe`.
 *
 * Usernames get a random suffix: the MySQL database persists between runs
 * (and `npm run db:setup` is idempotent), so each run must use fresh names.
 */
import { randomBytes } from 'node:crypto';
import { isChatError } from '../src/errors';
import type { UserKeyStore } from '../src/user-store';

/** A fresh name for this run: `base` plus a random suffix, within 32 characters. */
export function uniqueName(base: string): string {
  return `${base}_${randomBytes(4).toString('hex')}`;
}

/** A syntactically plausible bcrypt hash, distinct per `n`. */
export function fakeHash(n: number | string): string {
  return `$2b$04$${String(n).padStart(53, 'x')}`.slice(0, 60);
}

/** Expects `promise` to reject with a ChatError carrying `code`. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => new Error(`expected ${code}, but it succeeded`),
    (err: unknown) => err,
  );
  if (!isChatError(error) || error.code !== code) throw error;
}

/** Values a client could put where a username belongs, none of them a string. */
export const NON_STRING_VALUES: readonly unknown[] = [
  { username: 1 },
  { username: { username: 1 } },
  ['alice'],
  [],
  0,
  1,
  null,
  undefined,
  true,
  { toString: () => 'alice' },
  Object('alice'),
];

/** Usernames shaped like SQL injections: the username rule rejects each of them. */
export const SQL_SHAPED_USERNAMES: readonly string[] = [
  "' OR '1'='1",
  "admin'--",
  'x; DROP TABLE users',
  '" OR ""="',
  "alice' #",
  'a\u0000b',
  'alice\n',
];

/**
 * Defines the contract tests.
 *
 * @param open - opens a store; each call may return a new store on the same data
 */
export function userStoreContract(open: () => Promise<UserKeyStore>): void {
  let store: UserKeyStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('creates a user and finds it by exact name; an unknown name is undefined', async () => {
    const name = uniqueName('alice');
    await store.createUser(name, fakeHash(1));
    expect(await store.findUser(name)).toEqual({ username: name, passwordHash: fakeHash(1) });
    expect(await store.findUser(uniqueName('nobody'))).toBeUndefined();
  });

  test('a second registration of a name is NAME_TAKEN and keeps the first hash', async () => {
    const name = uniqueName('bob');
    await store.createUser(name, fakeHash('first'));
    await expectCode(store.createUser(name, fakeHash('second')), 'NAME_TAKEN');
    expect((await store.findUser(name))?.passwordHash).toBe(fakeHash('first'));
  });

  test('of 20 concurrent registrations of one name exactly one succeeds', async () => {
    const name = uniqueName('race');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.createUser(name, fakeHash(i))),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'NAME_TAKEN' });
    }
    // The stored hash is the winner's: nobody overwrote it.
    expect((await store.findUser(name))?.passwordHash).toBe(fakeHash(winners[0]!));
  });

  test('a name that differs from a registered one only by case is taken; look-ups are exact', async () => {
    const name = uniqueName('carol');
    await store.createUser(name, fakeHash('lower'));
    // Carol and CAROL side by side in the room would be an impersonation kit.
    await expectCode(store.createUser(name.toUpperCase(), fakeHash('upper')), 'NAME_TAKEN');
    const mixed = name[0]!.toUpperCase() + name.slice(1);
    await expectCode(store.createUser(mixed, fakeHash('mixed')), 'NAME_TAKEN');
    // Logging in still takes the exact spelling that was registered.
    expect(await store.findUser(name.toUpperCase())).toBeUndefined();
    expect((await store.findUser(name))?.passwordHash).toBe(fakeHash('lower'));
  });

  test('of concurrent registrations of one name in different cases exactly one succeeds', async () => {
    const name = uniqueName('case');
    const spellings = [name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1)];
    const results = await Promise.allSettled(
      spellings.flatMap((spelling, i) =>
        Array.from({ length: 5 }, () => store.createUser(spelling, fakeHash(i))),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'NAME_TAKEN' });
    }
  });

  test('SQL-shaped usernames are rejected with BAD_USERNAME and change nothing', async () => {
    const name = uniqueName('dave');
    await store.createUser(name, fakeHash('dave'));
    for (const evil of SQL_SHAPED_USERNAMES) {
      await expectCode(store.findUser(evil), 'BAD_USERNAME');
      await expectCode(store.createUser(evil, fakeHash('evil')), 'BAD_USERNAME');
    }
    expect((await store.findUser(name))?.passwordHash).toBe(fakeHash('dave'));
  });

  test('valid names that look like SQL are stored and found literally', async () => {
    // `--` starts an SQL comment and `.` / `_` mean something in LIKE patterns;
    // with placeholders and `=` they are just characters.
    for (const base of ['--', 'admin--', '1.0', '_']) {
      const name = uniqueName(base);
      await store.createUser(name, fakeHash(base));
      expect(await store.findUser(name)).toEqual({ username: name, passwordHash: fakeHash(base) });
      expect(await store.findUser(name.slice(0, -1))).toBeUndefined();
    }
  });

  test('non-string usernames are BAD_USERNAME, never a match', async () => {
    await store.createUser(uniqueName('erin'), fakeHash('erin'));
    for (const value of NON_STRING_VALUES) {
      await expectCode(store.findUser(value as string), 'BAD_USERNAME');
      await expectCode(store.createUser(value as string, fakeHash('x')), 'BAD_USERNAME');
    }
  });

  test('a non-string or empty password hash is refused (TypeError) and nothing is stored', async () => {
    const name = uniqueName('frank');
    for (const value of [...NON_STRING_VALUES, '', 'has space']) {
      await expect(store.createUser(name, value as string)).rejects.toThrow(TypeError);
    }
    expect(await store.findUser(name)).toBeUndefined();
  });

  test('values are checked before the database is touched; a closed store is SERVICE_UNAVAILABLE', async () => {
    const closed = await open();
    await closed.close();
    await expectCode(closed.findUser({ username: 1 } as unknown as string), 'BAD_USERNAME');
    await expectCode(closed.findUser(uniqueName('gina')), 'SERVICE_UNAVAILABLE');
    await expectCode(closed.createUser(uniqueName('gina'), fakeHash(1)), 'SERVICE_UNAVAILABLE');
    await closed.close(); // closing twice is harmless
  });

  test('public keys are append-only: the newest row wins, the exact name only, unknown is undefined', async () => {
    const name = uniqueName('keys');
    const keysOf = (n: number) => ({
      signingKey: Buffer.alloc(32, n),
      agreementKey: Buffer.alloc(32, n + 1),
      signature: Buffer.alloc(64, n + 2),
    });
    expect(await store.findUserKeys(name)).toBeUndefined();
    await store.addUserKeys(name, keysOf(1));
    expect(await store.findUserKeys(name)).toEqual(keysOf(1));
    await store.addUserKeys(name, keysOf(7));
    expect(await store.findUserKeys(name)).toEqual(keysOf(7));
    expect(await store.findUserKeys(name.toUpperCase())).toBeUndefined();
    await expectCode(store.findUserKeys({ username: 1 } as unknown as string), 'BAD_USERNAME');
    await expect(
      store.addUserKeys(name, { ...keysOf(2), signature: Buffer.alloc(63) }),
    ).rejects.toThrow(TypeError);
    expect(await store.findUserKeys(name)).toEqual(keysOf(7));
  });
}
