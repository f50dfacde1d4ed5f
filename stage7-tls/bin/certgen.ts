/**
 * `npm run certgen [-- options]`: makes the stage 7 server's identity, a
 * self-signed certificate and its private key (and a ticket key if there is
 * none), all mode 0600 in the git-ignored .data/ folder, and prints the
 * fingerprint clients pin. Refuses to replace a key unless --force is given.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import {
  DEFAULT_HOST_NAMES,
  DEFAULT_VALIDITY_DAYS,
  type KeyAlgorithm,
} from '../../shared/src/certificate';
import { parseOptions, parsePositiveInt, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import { createServerIdentity, resolveIdentityFiles } from '../../shared/src/server-identity';

const USAGE = `usage: npm run certgen -- [--name HOST]... [--algorithm ecdsa-p256|ed25519]
       [--days N] [--cert FILE] [--key FILE] [--ticket-key FILE] [--force]

  --name HOST        a host name or address clients use, besides ${DEFAULT_HOST_NAMES.join(', ')}
                     (repeat it for several)
  --algorithm ALG    ecdsa-p256 (default: every TLS stack has it) or ed25519
  --days N           validity (default ${DEFAULT_VALIDITY_DAYS}); pinning clients check the key, not the dates
  --cert, --key      where to write (default .data/server.crt and .data/server.key)
  --ticket-key FILE  login ticket key (default ticket.key beside the certificate);
                     kept if it exists, unless --force
  --force            replace existing files: every client then sees KEY_CHANGED`;

runMain(async () => {
  const values = parseOptions(process.argv.slice(2), {
    name: { type: 'string', multiple: true },
    algorithm: { type: 'string' },
    days: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'ticket-key': { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const algorithm = values.algorithm ?? 'ecdsa-p256';
  if (algorithm !== 'ecdsa-p256' && algorithm !== 'ed25519') {
    throw new ChatError(
      'BAD_ARGUMENT',
      `unknown --algorithm "${algorithm}" (ecdsa-p256 or ed25519)`,
    );
  }
  const files = resolveIdentityFiles({
    cert: values.cert,
    key: values.key,
    ticketKey: values['ticket-key'],
  });
  const hostNames = [...new Set([...DEFAULT_HOST_NAMES, ...(values.name ?? [])])];
  const made = await createServerIdentity(
    files,
    {
      algorithm: algorithm as KeyAlgorithm,
      hostNames,
      validDays: parsePositiveInt('--days', values.days),
    },
    values.force === true,
  );
  console.log(
    `wrote the certificate ${files.certFile} and its private key ${files.keyFile} (mode 0600)`,
  );
  if (made.wroteTicketKey) console.log(`wrote the ticket key ${files.ticketKeyFile} (mode 0600)`);
  console.log(`valid until ${made.notAfter.toISOString()} for ${made.hostNames.join(', ')}`);
  console.log(`fingerprint: ${made.fingerprint}`);
  console.log('Clients pin this key the first time they connect. Give them the fingerprint');
  console.log('over a channel you trust, and they pass it on first contact:');
  console.log(`  npm run stage7:client -- --server-fingerprint ${made.fingerprint}`);
  return 0;
});
