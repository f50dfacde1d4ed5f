/**
 * `npm run db:setup`: prepares MySQL for stage 6 and saves the `CHAT_DB_URL`.
 * Reads only the environment (see dbSetupOptionsFromEnv); `--help` explains it.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import path from 'node:path';
import { parseOptions, runMain } from '../../shared/src/cli';
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import { setupDatabase, type PasswordOutcome } from '../src/db-setup';
import { dbSetupOptionsFromEnv } from '../src/db-setup-options';

const HELP = `usage: npm run db:setup [-- --rotate-password]
Creates the chat database, its users table and an app account with SELECT and
INSERT on that table only, then saves the app's CHAT_DB_URL in a 0600 file
(its password is never printed: terminals and CI logs are kept).

If the account exists, its password is kept when this checkout's saved URL
(or CHAT_DB_URL) still logs in; otherwise setup refuses, because another
checkout may be using the account.
  --rotate-password  set a new password anyway (other checkouts' saved URLs stop working)
Environment:
  CHAT_DB_ADMIN_URL  admin account (default mysql://root@127.0.0.1:3306)
  CHAT_DB_NAME       database (default chat_course)
  CHAT_DB_APP_USER   app account (default chat_app)
  CHAT_DB_APP_HOST   host part of the app account (default: this machine, as MySQL sees it)
  CHAT_DB_URL_FILE   where to save the URL (default .data/mysql-url, mode 0600)
  CHAT_DB_URL        a URL for the app account (e.g. another checkout's); kept if it works`;

const PASSWORD_WORDS: Record<PasswordOutcome, string> = {
  new: ' (new account, random password)',
  kept: ' (existing account, its working password kept)',
  rotated: ' (new random password: other checkouts need this URL now)',
};

runMain(async () => {
  const values = parseOptions(process.argv.slice(2), { 'rotate-password': { type: 'boolean' } });
  if (values.help === true) {
    console.log(HELP);
    return;
  }
  const options = {
    ...dbSetupOptionsFromEnv(process.env),
    rotatePassword: values['rotate-password'] === true,
  };
  const result = await setupDatabase(options);
  console.log(`database ${options.database}: table users ready`);
  console.log(
    `app account ${result.account}: SELECT, INSERT on ${options.database}.users, nothing else` +
      PASSWORD_WORDS[result.password],
  );
  const saved = path.relative(process.cwd(), options.urlFile) || options.urlFile;
  console.log(`saved to ${saved} (mode 0600)`);
  // The URL without its password: scrollback and CI logs are kept, and anyone
  // who can read them should not get the app's database password. The file
  // holds the real one; the server reads it through the environment.
  const shown = formatMysqlUrl({ ...parseMysqlUrl(result.url), password: '***' });
  console.log(`CHAT_DB_URL=${shown}`);
  console.log(`start the server with: CHAT_DB_URL="$(cat ${saved})" npm run stage6`);
});
