// The checks in front of every store: the username rule, password hashes,
// MySQL URLs, and how openUserStore picks a store. No database needed.
import fc from 'fast-check';
import { isChatError } from '../src/errors';
import { describeMysqlUrl, formatMysqlUrl, parseMysqlUrl } from '../src/mysql-url';
import { USERNAME_PATTERN, validatePasswordHash } from '../src/user-record';
import { openUserStore, validateUsername } from '../src/user-store';
import { expectCode, NON_STRING_VALUES, SQL_SHAPED_USERNAMES } from './user-store-contract';

const ALLOWED = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-'.split('');

describe('validateUsername', () => {
  test('accepts every 1-32 character string over A-Z a-z 0-9 _ . - and returns it unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...ALLOWED), minLength: 1, maxLength: 32 }),
        (name) => {
          expect(validateUsername(name)).toBe(name);
        },
      ),
    );
  });

  test('rejects anything else with BAD_USERNAME and never throws anything but a ChatError', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        fc.pre(!(typeof value === 'string' && USERNAME_PATTERN.test(value)));
        try {
          validateUsername(value);
          return false;
        } catch (err) {
          return isChatError(err, 'BAD_USERNAME');
        }
      }),
    );
  });

  test.each<[string, string]>([
    ['empty', ''],
    ['33 characters', 'a'.repeat(33)],
    ['a space', 'al ice'],
    ['a trailing newline', 'alice\n'],
    ['non-ASCII letters', 'alicé'],
    ['a look-alike Cyrillic a', '\u0430lice'],
    ['a terminal escape', '\u001b[31malice'],
    ...SQL_SHAPED_USERNAMES.map((s): [string, string] => ['SQL', s]),
  ])('rejects %s: %j', (_why, value) => {
    expect(() => validateUsername(value)).toThrow(
      expect.objectContaining({ code: 'BAD_USERNAME' }),
    );
  });

  test.each(NON_STRING_VALUES.map((v) => [v]))('rejects the non-string %p', (value) => {
    expect(() => validateUsername(value)).toThrow(
      expect.objectContaining({ code: 'BAD_USERNAME' }),
    );
  });

  test('the message names the type, never echoes the value', () => {
    expect(() => validateUsername({ username: 'secret-ish' })).toThrow(
      'username must be a string, got object',
    );
  });
});

describe('validatePasswordHash', () => {
  test('accepts a bcrypt hash and rejects non-strings, empty, spaces and overlong values', () => {
    const hash = '$2b$12$' + 'a'.repeat(53);
    expect(validatePasswordHash(hash)).toBe(hash);
    for (const bad of [...NON_STRING_VALUES, '', 'two words', 'x'.repeat(256)]) {
      expect(() => validatePasswordHash(bad)).toThrow(TypeError);
    }
  });
});

describe('MySQL URLs', () => {
  test('parse, format and describe; the description never holds the password', () => {
    const url = 'mysql://chat_app:p%40ss%2Fword@127.0.0.1:3307/chat_course';
    const parts = parseMysqlUrl(url);
    expect(parts).toEqual({
      host: '127.0.0.1',
      port: 3307,
      user: 'chat_app',
      password: 'p@ss/word',
      database: 'chat_course',
    });
    expect(formatMysqlUrl(parts)).toBe(url);
    expect(describeMysqlUrl(parts)).toBe('chat_app@127.0.0.1:3307/chat_course');
    expect(parseMysqlUrl('mysql://root@localhost')).toMatchObject({
      port: 3306,
      password: '',
      database: undefined,
    });
  });

  test('any password survives a format/parse round trip', () => {
    fc.assert(
      fc.property(fc.string(), (password) => {
        const parts = { host: 'db.example', port: 3306, user: 'u', password, database: 'd' };
        expect(parseMysqlUrl(formatMysqlUrl(parts))).toEqual(parts);
      }),
    );
  });

  test.each([
    ['not a URL', 'chat_app:pw@host'],
    ['another scheme', 'postgres://u:p@h/db'],
    ['no user', 'mysql://127.0.0.1/db'],
    ['a nested path', 'mysql://u:p@h/a/b'],
  ])('rejects %s with BAD_ARGUMENT, without echoing it', (_why, url) => {
    let error: unknown;
    try {
      parseMysqlUrl(url);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect((error as Error).message).not.toContain(':p@');
  });
});

describe('openUserStore picks the store', () => {
  test('no URL (unset or empty) means SQLite', async () => {
    for (const url of [undefined, '']) {
      const store = await openUserStore({ url, sqlitePath: ':memory:' });
      expect(store.description).toBe('SQLite in memory');
      await store.close();
    }
  });

  test('a malformed URL or one without a database is BAD_ARGUMENT, before any connection', async () => {
    await expectCode(openUserStore({ url: 'mysql//oops' }), 'BAD_ARGUMENT');
    await expectCode(openUserStore({ url: 'mysql://u:p@127.0.0.1:1' }), 'BAD_ARGUMENT');
  });

  test('an unreachable MySQL fails at open with SERVICE_UNAVAILABLE and a hint', async () => {
    const error = await openUserStore({ url: 'mysql://u:pw@127.0.0.1:1/db' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/ECONNREFUSED.*u@127\.0\.0\.1:1\/db.*running/);
  });
});
