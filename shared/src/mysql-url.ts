/**
 * Reading and writing `mysql://user:password@host:port/database` URLs.
 *
 * Introduced by stage 6. One environment variable (`CHAT_DB_URL`) carries
 * everything the server needs to reach MySQL; `npm run db:setup` reads the
 * admin URL the same way and prints the app's URL. A URL holds a password, so
 * this module also makes the *description* people see in logs: the same URL
 * without the password. `npm run db:setup` also saves the app's URL in a
 * git-ignored file ({@link DEFAULT_MYSQL_URL_FILE}, mode 0600), where tests
 * and people find it.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChatError } from './errors';

/** The parts of a MySQL URL, decoded. */
export interface MysqlUrl {
  /** Host name or IP address. */
  host: string;
  /** TCP port (3306 when the URL has none). */
  port: number;
  /** The MySQL account name. */
  user: string;
  /** The account's password (`''` when the URL has none). Never print it. */
  password: string;
  /** The database, or `undefined` when the URL has no path (an admin URL). */
  database: string | undefined;
}

/** MySQL's usual port, used when a URL has none. */
export const DEFAULT_MYSQL_PORT = 3306;

/**
 * Parses a MySQL URL. User and password may be percent-encoded (a password
 * with `@` or `/` in it must be).
 *
 * @param text - e.g. `mysql://chat_app:s3cret@127.0.0.1:3306/chat_course`
 * @returns the decoded parts
 * @throws ChatError `BAD_ARGUMENT` if `text` is not a `mysql:` URL with a user
 *   and a host (the message never repeats the URL: it may hold a password)
 *
 * @example
 * ```ts
 * parseMysqlUrl('mysql://root@127.0.0.1').port; //=> 3306
 * ```
 */
export function parseMysqlUrl(text: string): MysqlUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ChatError('BAD_ARGUMENT', 'database URL is not a valid URL');
  }
  if (url.protocol !== 'mysql:') {
    throw new ChatError(
      'BAD_ARGUMENT',
      `database URL must start with mysql://, not ${url.protocol}//`,
    );
  }
  if (url.username === '' || url.hostname === '') {
    throw new ChatError(
      'BAD_ARGUMENT',
      'database URL needs a user and a host: mysql://USER:PASSWORD@HOST:PORT/DB',
    );
  }
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (path.includes('/')) {
    throw new ChatError('BAD_ARGUMENT', 'database URL path must be a single database name');
  }
  return {
    // new URL keeps the brackets of an IPv6 host; the driver wants them gone.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_MYSQL_PORT : Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: path === '' ? undefined : path,
  };
}

/**
 * Builds the URL for the given parts, percent-encoding user and password.
 *
 * @param parts - the URL's parts
 * @returns e.g. `mysql://chat_app:s3cret@127.0.0.1:3306/chat_course`
 */
export function formatMysqlUrl(parts: MysqlUrl): string {
  const auth =
    encodeURIComponent(parts.user) +
    (parts.password === '' ? '' : ':' + encodeURIComponent(parts.password));
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host;
  const db = parts.database === undefined ? '' : '/' + encodeURIComponent(parts.database);
  return `mysql://${auth}@${host}:${parts.port}${db}`;
}

/**
 * Describes where a URL points, without the password: safe for logs.
 *
 * @param parts - the URL's parts
 * @returns e.g. `chat_app@127.0.0.1:3306/chat_course`
 */
export function describeMysqlUrl(parts: MysqlUrl): string {
  const db = parts.database === undefined ? '' : `/${parts.database}`;
  return `${parts.user}@${parts.host}:${parts.port}${db}`;
}

/** Where `npm run db:setup` saves the app's URL: `.data/mysql-url` in the repository. */
export const DEFAULT_MYSQL_URL_FILE = path.resolve(__dirname, '..', '..', '.data', 'mysql-url');

/**
 * Reads a saved URL (the first line of the file).
 *
 * @param file - the file, default {@link DEFAULT_MYSQL_URL_FILE}
 * @returns the URL, or `undefined` if the file does not exist or is empty
 */
export function readMysqlUrlFile(file: string = DEFAULT_MYSQL_URL_FILE): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const line = text.split('\n')[0]!.trim();
  return line === '' ? undefined : line;
}
