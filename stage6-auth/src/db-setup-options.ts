/**
 * The settings of `npm run db:setup`, read from the environment.
 *
 * Introduced by stage 6. Every setting has a default that suits a learner's
 * machine (root with no password on 127.0.0.1:3306); tests override them to
 * set up a throw-away database and account of their own.
 *
 * @module
 */
import { ChatError } from '../../shared/src/errors';
import { DEFAULT_MYSQL_URL_FILE } from '../../shared/src/mysql-url';

/** What to set up, and where to save the result. */
export interface DbSetupOptions {
  /** An account allowed to create databases and users, e.g. `mysql://root@127.0.0.1:3306`. */
  adminUrl: string;
  /** The database to create (letters, digits, `_`). */
  database: string;
  /** The app account's name (letters, digits, `_`, at most 32). */
  appUser: string;
  /**
   * The host part of the app account (`'chat_app'@'HOST'`): where the app may
   * connect from. Default: the address the server sees this setup connect
   * from, so the account works from this machine and no other.
   */
  appHost?: string;
  /** Where to save the app's URL (mode 0600). */
  urlFile: string;
  /** The schema to run; default `stage6-auth/sql/schema.sql`. */
  schemaFile?: string;
  /**
   * A URL for the app account from elsewhere (`CHAT_DB_URL`, e.g. another
   * checkout's saved one): its password is kept if it works.
   */
  knownUrl?: string;
  /**
   * Set a new random password even though the account exists (`--rotate-password`).
   * Every other checkout's saved URL stops working.
   */
  rotatePassword?: boolean;
}

const IDENTIFIER = /^[A-Za-z0-9_]{1,32}$/;
const ACCOUNT_HOST = /^[A-Za-z0-9_.:%-]{1,255}$/;

/**
 * Reads the options from the environment: `CHAT_DB_ADMIN_URL` (default
 * `mysql://root@127.0.0.1:3306`), `CHAT_DB_NAME` (default `chat_course`),
 * `CHAT_DB_APP_USER` (default `chat_app`), `CHAT_DB_APP_HOST`,
 * `CHAT_DB_URL_FILE` (default `.data/mysql-url`) and `CHAT_DB_URL` (a URL
 * whose password is kept if it works).
 *
 * @param env - usually `process.env`
 * @returns options for `setupDatabase`
 * @throws ChatError `BAD_ARGUMENT` for a name outside the allowed characters
 */
export function dbSetupOptionsFromEnv(env: NodeJS.ProcessEnv): DbSetupOptions {
  const options: DbSetupOptions = {
    adminUrl: env.CHAT_DB_ADMIN_URL || 'mysql://root@127.0.0.1:3306',
    database: env.CHAT_DB_NAME || 'chat_course',
    appUser: env.CHAT_DB_APP_USER || 'chat_app',
    appHost: env.CHAT_DB_APP_HOST || undefined,
    urlFile: env.CHAT_DB_URL_FILE || DEFAULT_MYSQL_URL_FILE,
    knownUrl: env.CHAT_DB_URL || undefined,
  };
  // Names go into SQL as identifiers, where no placeholder can protect them:
  // only a strict character set may pass.
  for (const [name, value] of [
    ['CHAT_DB_NAME', options.database],
    ['CHAT_DB_APP_USER', options.appUser],
  ] as const) {
    if (!IDENTIFIER.test(value)) {
      throw new ChatError('BAD_ARGUMENT', `${name} must be 1-32 of A-Z a-z 0-9 _`);
    }
  }
  if (options.appHost !== undefined && !ACCOUNT_HOST.test(options.appHost)) {
    throw new ChatError('BAD_ARGUMENT', 'CHAT_DB_APP_HOST must be a host name, an address or %');
  }
  return options;
}
