/**
 * `npm run stage5:client [-- --host H --port P --key-file PATH]`: the stage 5 chat client.
 * Loads the room key (it never makes one up), then calls runClient.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { loadKeyFile, resolveKeyFile } from '../../shared/src/key-file';
import { runClient } from '../src/client';

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    'key-file': { type: 'string' },
  });
  if (values.help) {
    console.log('usage: npm run stage5:client -- [--host HOST] [--port PORT] [--key-file PATH]');
    console.log(
      'The key file (default .data/chat.key, or CHAT_KEY_FILE) comes from `npm run keygen`;',
    );
    console.log('every member of the room needs a copy of the same file.');
    return 0;
  }
  // A missing or broken key stops the client here, with what to do about it
  // (KEY_MISSING says to run `npm run keygen`). Inventing a key instead would
  // "work" while no one else could read a word.
  const key = loadKeyFile(resolveKeyFile(values['key-file'], process.env));
  return runClient({ ...endpoint, key });
});
