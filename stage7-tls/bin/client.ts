/**
 * `npm run stage7:client -- --user NAME [options]`: the stage 7 chat client.
 * Reads the command line, chooses how the server is trusted (a pinned key,
 * or `--ca`), then calls runClient.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import fs from 'node:fs';
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { parseFingerprint } from '../../shared/src/fingerprint';
import { KnownServers, resolveKnownServersFile } from '../../shared/src/known-servers';
import { resolveTicketDir, TicketStore } from '../../shared/src/ticket-store';
import { TlsSessionCache } from '../../shared/src/tls-client';
import { runClient } from '../src/client';

// Stage 9 runs this same client (`npm run stage9:client`): name the script the user typed.
const SCRIPT =
  process.env.npm_lifecycle_event === 'stage9:client' ? 'stage9:client' : 'stage7:client';

const USAGE = `usage: npm run ${SCRIPT} -- --user NAME [--register] [--password-stdin]
       [--host HOST] [--port PORT] [--server-fingerprint SHA256:…]
       [--known-servers FILE] [--ca FILE] [--ticket-dir DIR] [--no-ticket]

  --user NAME        the account (1-32 characters of A-Z a-z 0-9 _ . -)
  --register         create the account, then log in (on a terminal the new
                     password is asked for twice)
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

After login: type a message and press Enter; /who lists who is online; /quit leaves.`;

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
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.user === undefined) throw new ChatError('BAD_ARGUMENT', 'missing --user NAME');
  const env = process.env;
  const warn = (message: string) => console.error(`warning: ${message}`);
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
