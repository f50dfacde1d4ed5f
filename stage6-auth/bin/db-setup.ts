/**
 * `npm run db:setup`: prepares MySQL for stage 6 and saves the `CHAT_DB_URL`.
 * Reads only the environment (see dbSetupOptionsFromEnv); `--help` explains it.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import path from 'node:path';
import { parseOptions, runMain } from '../../shared/src/cli';
import { formatMysqlUrl, parseMysqlUrl } from '../../shared/src/mysql-url';
import { setupDatabase } from '../src/db-setup';
import { dbSetupOptionsFromEnv } from '../src/db-setup-options';

const HELP = `usage: npm run db:setup
Creates the chat database, its users table and an app account with SELECT and
INSERT on that table only, then saves the app's CHAT_DB_URL in a 0600 file
(its password is never printed: terminals and CI logs are kept).
Environment:
  CHAT_DB_ADMIN_URL  admin account (default mysql://root@127.0.0.1:3306)
  CHAT_DB_NAME       database (default chat_course)
  CHAT_DB_APP_USER   app account (default chat_app)
  CHAT_DB_APP_HOST   host part of the app account (default: this machine, as MySQL sees it)
  CHAT_DB_URL_FILE   where to save the URL (default .data/mysql-url, mode 0600)`;

runMain(async () => {
  const { help } = parseOptions(process.argv.slice(2), {});
  if (help === true) {
    console.log(HELP);
    return;
  }
  const options = dbSetupOptionsFromEnv(process.env);
  const result = await setupDatabase(options);
  console.log(`database ${options.database}: table users ready`);
  console.log(
    `app account ${result.account}: SELECT, INSERT on ${options.database}.users, nothing else` +
      (result.passwordKept ? ' (saved password still valid, kept)' : ' (new random password)'),
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
