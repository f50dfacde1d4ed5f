/**
 * `npm run stage6:client -- --user NAME [--register] [--password-stdin]`:
 * the stage 6 chat client. Loads the room key, then calls runClient.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { loadKeyFile, resolveKeyFile } from '../../shared/src/key-file';
import { runClient } from '../src/client';

const USAGE = `usage: npm run stage6:client -- --user NAME [--register] [--password-stdin]
       [--host HOST] [--port PORT] [--key-file PATH]

  --user NAME        the account (1-32 characters of A-Z a-z 0-9 _ . -)
  --register         create the account, then log in (on a terminal the new
                     password is asked for twice)
  --password-stdin   read the password from the first line of stdin (for scripts);
                     otherwise it is asked for on the terminal, without echo
  --key-file PATH    room key (default .data/chat.key, or CHAT_KEY_FILE)

After login: type a message and press Enter; /who lists who is online; /quit leaves.`;

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    user: { type: 'string', short: 'u' },
    register: { type: 'boolean' },
    'password-stdin': { type: 'boolean' },
    'key-file': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.user === undefined) throw new ChatError('BAD_ARGUMENT', 'missing --user NAME');
  const key = loadKeyFile(resolveKeyFile(values['key-file'], process.env));
  return runClient({
    ...endpoint,
    key,
    username: values.user,
    register: values.register,
    passwordStdin: values['password-stdin'],
  });
});
