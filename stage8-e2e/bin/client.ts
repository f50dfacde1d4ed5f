/**
 * `npm run stage8:client -- --user NAME [options]`: the stage 8 chat client.
 * Reads the command line, chooses how the server is trusted (a pinned key,
 * or `--ca`) and where my keys live, then calls runClient.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import fs from 'node:fs';
import path from 'node:path';
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { parseFingerprint } from '../../shared/src/fingerprint';
import { KnownServers, resolveKnownServersFile } from '../../shared/src/known-servers';
import { resolveTicketDir, TicketStore } from '../../shared/src/ticket-store';
import { TlsSessionCache } from '../../shared/src/tls-client';
import { runClient } from '../src/client';

const USAGE = `usage: npm run stage8:client -- --user NAME [--register] [--password-stdin]
       [--host HOST] [--port PORT] [--server-fingerprint SHA256:…]
       [--known-servers FILE] [--ca FILE] [--ticket-dir DIR] [--no-ticket]
       [--key-dir DIR] [--new-keys]

  --user NAME        the account (1-32 characters of A-Z a-z 0-9 _ . -)
  --register         create the account and a new identity (signing and
                     key-agreement keys), then log in (on a terminal the new
                     password is asked for twice)
  --new-keys         make a new identity for an existing account (a lost key
                     file, or an account from before stage 8); everyone who saw
                     your old key is warned that it changed
  --key-dir DIR      where my identity file (NAME.identity: private keys sealed
                     under the password, 0600) and the keys of members I have
                     seen (NAME.known-members) are kept (default .data/e2e, or
                     CHAT_KEY_DIR)
  --password-stdin   read the password from the first line of stdin (for scripts)
  --server-fingerprint SHA256:…
                     the server key to expect on first contact (the server prints
                     it at start); needed when no terminal can ask you
  --known-servers FILE   pinned server keys (default .data/known-servers, or
                     CHAT_KNOWN_SERVERS); a changed key is refused (KEY_CHANGED)
  --ca FILE          trust certificates issued by this CA (PEM) instead of pinning:
                     the certificate must be valid now and name --host
  --ticket-dir DIR   where login tickets are kept (default .data/tickets, or
                     CHAT_TICKET_DIR); a ticket logs you in without the password
  --no-ticket        neither use nor keep a ticket

After login: type a message and press Enter (only the members can read it);
/verify NAME prints the safety number to compare with NAME out of band;
/fingerprint prints yours; /trust NAME accepts NAME's changed key after you
compared; /who lists who is online; /quit leaves.`;

// Above runMain: its function starts at once, before the rest of the file has run.
const DEFAULT_KEY_DIR = path.resolve(__dirname, '..', '..', '.data', 'e2e');

runMain(async () => {
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
    user: { type: 'string', short: 'u' },
    register: { type: 'boolean' },
    'password-stdin': { type: 'boolean' },
    'server-fingerprint': { type: 'string' },
    'known-servers': { type: 'string' },
    ca: { type: 'string' },
    'ticket-dir': { type: 'string' },
    'no-ticket': { type: 'boolean' },
    'key-dir': { type: 'string' },
    'new-keys': { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.user === undefined) throw new ChatError('BAD_ARGUMENT', 'missing --user NAME');
  const env = process.env;
  const warn = (message: string) => console.error(`warning: ${message}`);
  const keyDir = values['key-dir'] ?? (env.CHAT_KEY_DIR || DEFAULT_KEY_DIR);
  if (values.ca !== undefined && values['server-fingerprint'] !== undefined) {
    throw new ChatError('BAD_ARGUMENT', 'pass --ca or --server-fingerprint, not both');
  }
  const trust =
    values.ca !== undefined
      ? { ca: readCa(values.ca) }
      : {
          knownServers: new KnownServers(
            resolveKnownServersFile(values['known-servers'], env),
            warn,
          ),
          expectedFingerprint:
            values['server-fingerprint'] === undefined
              ? undefined
              : parseFingerprint(values['server-fingerprint'], '--server-fingerprint'),
        };
  return runClient({
    ...endpoint,
    trust,
    sessions: new TlsSessionCache(),
    tickets: values['no-ticket']
      ? undefined
      : new TicketStore(resolveTicketDir(values['ticket-dir'], env), warn),
    username: values.user,
    register: values.register,
    newKeys: values['new-keys'],
    // The name is checked by runClient before either path is used.
    keyFile: path.join(keyDir, `${values.user}.identity`),
    knownMembersFile: path.join(keyDir, `${values.user}.known-members`),
    openedCountersFile: path.join(keyDir, `${values.user}.opened-counters`),
    passwordStdin: values['password-stdin'],
  });
});

function readCa(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ChatError('BAD_CERTIFICATE', `cannot read the CA file ${file} (${why})`);
  }
}
