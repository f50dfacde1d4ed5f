/**
 * `npm run keygen [-- --key-file PATH] [--force]`: creates the room key file.
 * Refuses to replace an existing key unless --force is given.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseOptions, runMain } from '../../shared/src/cli';
import { generateKey } from '../../shared/src/crypto';
import { resolveKeyFile, saveKeyFile } from '../../shared/src/key-file';

runMain(async () => {
  const values = parseOptions(process.argv.slice(2), {
    'key-file': { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    console.log('usage: npm run keygen -- [--key-file PATH] [--force]');
    console.log('Writes a new random 32-byte key (base64, one line, mode 0600).');
    console.log('Default path: .data/chat.key, or CHAT_KEY_FILE.');
    return 0;
  }
  const file = resolveKeyFile(values['key-file'], process.env);
  saveKeyFile(file, generateKey(), { force: values.force });
  console.log(`wrote a new key to ${file} (mode 0600)`);
  // One tool for two stages: say what is true in each.
  console.log('Give a copy to every member of the room over a channel you trust; they pass');
  console.log('it with --key-file PATH or CHAT_KEY_FILE. The stage 5 server never needs it');
  console.log('(it relays boxes it cannot open); the stage 6 server does (it opens the login');
  console.log('boxes), and makes one itself on its first run if there is none.');
  return 0;
});
