/**
 * The error code reference: docs/errors.md, generated from `ERROR_CODES`.
 *
 * The meaning of each code is the sentence in shared/src/errors.ts, so the
 * page can never disagree with the code. What a reader also needs (which stage
 * introduces the code, who reports it, whether it crosses the wire, what a
 * client should do about it) is written below, in a table TypeScript checks
 * against the list: adding a code to `ERROR_CODES` without a line here fails
 * `npm run typecheck`, and the generator checks that no stale code lingers.
 */

import * as path from 'node:path';
import { ERROR_CODES, type ChatErrorCode } from '../shared/src/errors';
import { STAGES } from './diffs';
import { formatLikePrettier } from './format';
import type { GeneratedFile, Generator } from './generator';

const ROOT = path.resolve(__dirname, '..');
/** Where the reference is written, relative to the repository root. */
export const ERRORS_PATH = 'docs/errors.md';

/** How a code reaches the other end of a connection, if it does. */
type Wire =
  | 'local' // printed by the program that hit it (usually at startup); never sent
  | 'logged' // the server logs it and drops the connection; nothing is sent
  | 'warned' // a client refuses what it received, shows a warning and carries on
  | 'sent';

/** What the docs say about one code, besides its meaning. */
interface CodeGuide {
  /** The stage whose chapter introduces the code. */
  stage: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Which program reports it, and when. */
  reportedBy: string;
  /** Whether it crosses the wire. */
  wire: Wire;
  /** What the client (or the user) should do. */
  action: string;
}

const GUIDE: Record<ChatErrorCode, CodeGuide> = {
  BAD_ARGUMENT: {
    stage: 1,
    reportedBy: 'any server, client or tool, at startup, for a bad option or environment variable',
    wire: 'local',
    action:
      'Fix the option the message names; `--help` lists them. The program exits with status 2.',
  },
  LISTEN_FAILED: {
    stage: 1,
    reportedBy: 'a server at startup',
    wire: 'local',
    action:
      'Stop whatever holds the port, or pick another one (`--port 0` takes any free port); listen only on an address of this machine.',
  },
  FRAME_TOO_LARGE: {
    stage: 2,
    reportedBy:
      'the receiver of a line over the size cap: servers reply with it, then close the connection',
    wire: 'sent',
    action:
      'Never send a line over the limit (4096 bytes in stages 2–4, 16384 in 5–6): the clients refuse such input before sending. Reconnect to continue.',
  },
  BAD_UTF8: {
    stage: 2,
    reportedBy: 'the receiver of a line that is not valid UTF-8; the connection stays open',
    wire: 'sent',
    action: 'Encode text as UTF-8. The line was dropped; send it again, correctly encoded.',
  },
  BAD_FRAME: {
    stage: 2,
    reportedBy:
      'a server, for an unknown command (stage 3), a line with a lone `\\r` (stage 4), or a frame that breaks the JSON protocol (stages 5–6); a client, for a message too long to seal',
    wire: 'sent',
    action:
      'A client bug: fix the frame (see the [wire protocol](protocol.md)). The connection stays open, except in stage 6 before login.',
  },
  CONNECT_FAILED: {
    stage: 2,
    reportedBy: 'a client that cannot reach its server',
    wire: 'local',
    action: 'Start the server, or check `--host` and `--port`; then try again.',
  },
  SHUTTING_DOWN: {
    stage: 2,
    reportedBy:
      'a stopping server, as its last line (stage 2) or frame (stage 5); stage 4 says `* server shutting down` and stage 6 sends a `bye` frame instead. Also a worker pool that was closed',
    wire: 'sent',
    action: 'Not an error of yours: exit, or reconnect once the server is back.',
  },
  SERVICE_UNAVAILABLE: {
    stage: 3,
    reportedBy:
      'a server whose hashing queue is full (stages 3 and 6) or whose user database is unreachable (stages 6 to 9, at login; stage 8 also for a `keys` look-up, and that connection stays open); a busy stage 6 server adds `retryAfterMs`',
    wire: 'sent',
    action:
      'Try again after a short, growing wait; in stage 6 after `retryAfterMs` when the frame has one (the stage 6 client does so by itself, a few times). At login the server closes the connection: reconnect and log in again.',
  },
  BAD_PASSWORD: {
    stage: 3,
    reportedBy:
      'the stage 3 server (`hash` of over 72 bytes), the stage 6 server at login or register',
    wire: 'sent',
    action:
      'Choose a password of at least 8 characters and at most 72 UTF-8 bytes (bcrypt ignores the rest, so longer ones are refused).',
  },
  SLOW_CONSUMER: {
    stage: 4,
    reportedBy:
      'a server, about a client whose unsent output passed the cap (1 MiB): it is logged and the client is disconnected',
    wire: 'logged',
    action:
      'Read from the socket continuously (a client that stops reading is cut off, so it cannot stall the room or grow server memory); reconnect.',
  },
  DECRYPT_FAILED: {
    stage: 5,
    reportedBy:
      'a receiving client, for a chat box that fails authentication (shown as a warning, never as a message); the stage 6 server, for credentials it cannot open',
    wire: 'sent',
    action:
      'Drop the message and show a warning, never its content. At login: check that your key file is the room’s key.',
  },
  KEY_MISSING: {
    stage: 5,
    reportedBy:
      'a stage 5 or 6 client at startup (the stage 6 server makes a key on its first run instead); a stage 8 client with no identity file for the user',
    wire: 'local',
    action:
      'Run `npm run keygen` once (or start the stage 6 server once), and give every member a copy of the key file (`--key-file` or `CHAT_KEY_FILE` says where). Stage 8: `--register` for a new account; for an existing one, `--new-keys` (everyone who saw the old key is warned).',
  },
  BAD_KEY: {
    stage: 5,
    reportedBy:
      'a stage 5 or 6 program whose key file exists but does not hold a 32-byte key; the stage 6 server also for a key file other users can read or write',
    wire: 'local',
    action:
      'Replace the file with the room’s key (or make a new one with `npm run keygen -- --force`); for a loose one, `chmod 600` it as the message says.',
  },
  KEY_EXISTS: {
    stage: 5,
    reportedBy: '`npm run keygen`, which never overwrites a key by accident',
    wire: 'local',
    action:
      'Keep the existing key, or pass `--force` to replace it (every member then needs the new one).',
  },
  AUTH_FAILED: {
    stage: 6,
    reportedBy:
      'the stage 6 server at login (wrong password, unknown user, or credentials sealed for another connection), then it closes the connection; `db:setup` when the admin account is refused',
    wire: 'sent',
    action:
      'Check the username and password. Do not retry in a loop: failures are rate-limited per user and per address.',
  },
  NAME_TAKEN: {
    stage: 6,
    reportedBy: 'the stage 6 server, at register',
    wire: 'sent',
    action: 'Pick another username, or log in if the account is yours.',
  },
  BAD_USERNAME: {
    stage: 6,
    reportedBy: 'the stage 6 server at login or register, then it closes the connection',
    wire: 'sent',
    action: 'Use 1–32 characters from `A-Z a-z 0-9 _ . -`.',
  },
  ALREADY_LOGGED_IN: {
    stage: 6,
    reportedBy: 'the stage 6 server, to a correct login for a user who is online elsewhere',
    wire: 'sent',
    action: 'Quit the other session first (one session per user), then log in again.',
  },
  NOT_LOGGED_IN: {
    stage: 6,
    reportedBy:
      'the stage 6 server, for any frame other than `login`/`register` before login; it then closes the connection',
    wire: 'sent',
    action: 'Wait for `hello`, log in, and send nothing else until `welcome` arrives.',
  },
  LOGIN_TIMEOUT: {
    stage: 6,
    reportedBy:
      'the servers of stages 6 to 9, to a connection that has not logged in by the deadline (30 s); the clients of stages 6 to 8, when a server has not answered a login within 45 s',
    wire: 'sent',
    action:
      'Reconnect and log in straight away. From the client: the server took the login and said nothing; check that HOST:PORT is the chat server you meant.',
  },
  RATE_LIMITED: {
    stage: 6,
    reportedBy:
      'the stage 6-9 servers, after too many failed logins for this user or from this address; stage 8 for a login with new keys past the key-change limit, and for a `keys` (stage 9: a `who`) sent while the last one is still being looked up',
    wire: 'sent',
    action:
      'Wait before trying again: the limit lets one more attempt through every few seconds, so retrying in a tight loop only keeps it closed. For a look-up, wait for its answer before asking again.',
  },
  TLS_REQUIRED: {
    stage: 7,
    reportedBy:
      'the stage 7 server, to a connection whose first byte is not a TLS handshake (an older client, `nc`); it answers with one plain-text error frame and closes',
    wire: 'sent',
    action: 'Connect with a TLS client: `npm run stage7:client`, or `openssl s_client -tls1_3`.',
  },
  TLS_VERSION: {
    stage: 7,
    reportedBy:
      'the stage 7 server (logged) and the TLS library of a client that offered TLS 1.2 or older',
    wire: 'logged',
    action: 'Use a TLS library that speaks TLS 1.3 (Node 12+, OpenSSL 1.1.1+).',
  },
  TLS_HANDSHAKE: {
    stage: 7,
    reportedBy: 'the stage 7 server (logged) and client, for any other failed handshake',
    wire: 'logged',
    action: 'Read the message: it names the TLS alert. A client must offer the chat’s ALPN id.',
  },
  KEY_CHANGED: {
    stage: 7,
    reportedBy: 'a stage 7 client whose known-servers file pins another key for this server',
    wire: 'local',
    action:
      'Ask the server’s operator for its fingerprint over a channel you trust. Only if it really changed, forget the old pin (the message says how) and connect again.',
  },
  UNKNOWN_SERVER: {
    stage: 7,
    reportedBy:
      'a stage 7 client on first contact with a server when stdin is not a terminal, or when the user answered no',
    wire: 'local',
    action:
      'Get the fingerprint the server printed at start (`npm run certgen` prints it too) and pass `--server-fingerprint SHA256:…`.',
  },
  FINGERPRINT_MISMATCH: {
    stage: 7,
    reportedBy: 'a stage 7 client whose `--server-fingerprint` is not the key the server showed',
    wire: 'local',
    action:
      'Check the fingerprint you were given, character by character; if it is right, someone is in the middle.',
  },
  CERT_INVALID: {
    stage: 7,
    reportedBy: 'a stage 7 client under `--ca FILE`',
    wire: 'local',
    action:
      'Connect with the host name the certificate was issued for, renew an expired certificate, or pass the CA that issued it.',
  },
  BAD_CERTIFICATE: {
    stage: 7,
    reportedBy: 'the stage 7 server at startup, for `--cert`/`--key` files; a client for `--ca`',
    wire: 'local',
    action:
      'Pass PEM files: the certificate chain (leaf first) and its own private key; or run `npm run certgen -- --force` for a new self-signed pair.',
  },
  BAD_KNOWN_SERVERS: {
    stage: 7,
    reportedBy: 'a stage 7 client reading its known-servers file',
    wire: 'local',
    action:
      'Fix or delete the line the message names: one `HOST:PORT SHA256:…` per line, `#` for comments.',
  },
  TICKET_INVALID: {
    stage: 7,
    reportedBy: 'the stage 7 server, to a resume with a ticket it does not accept',
    wire: 'sent',
    action:
      'Forget the stored ticket and log in with the password; the server then issues a new one.',
  },
  BAD_SIGNATURE: {
    stage: 8,
    reportedBy:
      'a stage 8 client, for a key bundle, key box or room message whose signature is not by the key of the member it claims to come from',
    wire: 'warned',
    action:
      'Nothing to fix locally: the message was forged or altered (by the server, or by a member posing as another) and was not shown. Compare safety numbers with `/verify NAME`.',
  },
  REPLAYED: {
    stage: 8,
    reportedBy: 'a stage 8 client, for a room message or sender key it has already accepted',
    wire: 'warned',
    action: 'Nothing: the copy was dropped; the original was shown once.',
  },
  UNKNOWN_EPOCH: {
    stage: 8,
    reportedBy:
      'a stage 8 client, for a room message under a sender key it does not hold (sent before it joined, or after the sender rotated without handing it the new key)',
    wire: 'warned',
    action:
      'Usually nothing: a newcomer cannot read what was said before it joined, by design. If it persists for a current member, the sender never delivered its key: ask them to speak again.',
  },
  MESSAGE_TOO_OLD: {
    stage: 8,
    reportedBy:
      'a stage 8 client, for a message whose counter is below the window of skipped keys it still keeps (1,000 per sender and epoch)',
    wire: 'warned',
    action: 'Nothing: the message arrived too late to be opened; it cannot be recovered.',
  },
  MESSAGE_TOO_FAR_AHEAD: {
    stage: 8,
    reportedBy:
      'a stage 8 client, for a message whose counter skips more than 1,000 ahead of the last one seen',
    wire: 'warned',
    action:
      'Nothing: the sender skipped more messages than a receiver ratchets over; its next epoch starts afresh.',
  },
  KEY_LOCKED: {
    stage: 8,
    reportedBy: 'a stage 8 client at startup, opening its identity key file',
    wire: 'local',
    action:
      'Type the password the keys were sealed with (the account password at registration). A file that was altered cannot be unlocked at all.',
  },
  BAD_IDENTITY_FILE: {
    stage: 8,
    reportedBy:
      'a stage 8 client at startup, reading its identity key file, its known-members file or its opened-counters file',
    wire: 'local',
    action:
      'Point the client at the file it wrote itself (at registration, or when it first met a member); a file from an unknown version, or edited by hand, is refused.',
  },
  MEMBER_KEY_CHANGED: {
    stage: 8,
    reportedBy:
      'a stage 8 client, when the server hands out an identity key for a member that differs from the one recorded on first use',
    wire: 'warned',
    action:
      'Compare safety numbers with that member out of band (`/verify NAME`) before trusting the new key: a new device and an impostor look the same here.',
  },
  TOO_MANY_CONNECTIONS: {
    stage: 6,
    reportedBy:
      'the stage 6 server, to a new connection past its connection cap or past the cap on connections not yet logged in from one address; then it closes it',
    wire: 'sent',
    action:
      'Close connections you do not use (each must log in within the deadline), and reconnect a little later.',
  },
  TOO_MANY_ERRORS: {
    stage: 6,
    reportedBy:
      'the stage 6 server, to a logged-in connection whose bad frames used up its error budget; then it closes it',
    wire: 'sent',
    action: 'A client bug: fix what the earlier `BAD_FRAME` errors said, then reconnect.',
  },
  IDLE_TIMEOUT: {
    stage: 6,
    reportedBy:
      'the stage 6 server, to a logged-in connection that sent nothing (not even a `pong`) for the idle timeout',
    wire: 'sent',
    action: 'Answer every `ping` with a `pong` (the stage 6 client does), and reconnect.',
  },
  NO_KEYS: {
    stage: 8,
    reportedBy:
      'the stage 8 server, answering a `keys` request for a user it holds no public keys for',
    wire: 'sent',
    action:
      'Check the name; a user registered before stage 8 publishes keys at their first stage 8 login.',
  },
  ROOM_SPLIT: {
    stage: 9,
    reportedBy:
      'a stage 9 server, to each of its logged-in members, when it loses touch with Redis (the rest of the cluster)',
    wire: 'sent',
    action:
      'Nothing: the connection stays open and chat goes on with the members of the same server. A `ROOM_REJOINED` notice follows when the cluster is whole again.',
  },
  ROOM_REJOINED: {
    stage: 9,
    reportedBy:
      'a stage 9 server, to each of its logged-in members, when it is back in touch with the cluster after a `ROOM_SPLIT`',
    wire: 'sent',
    action:
      'Nothing: the room is whole again. Messages sent on other servers during the split are not replayed.',
  },
  MESSAGES_LOST: {
    stage: 9,
    reportedBy:
      "a stage 9 server, to each of its logged-in members, when the next message from another server shows a gap in that server's numbering (messages published while one of the two was cut off from Redis)",
    wire: 'sent',
    action:
      'Nothing: the connection stays open. The count says how many messages are missing at that point; they are not replayed.',
  },
  LOGGED_IN_ELSEWHERE: {
    stage: 9,
    reportedBy:
      'a stage 9 server, ending a session whose user logged in on another server while this one was cut off from the cluster',
    wire: 'sent',
    action:
      'The user is logged in on the other connection; log in here again only after leaving there.',
  },
  CANCELLED: {
    stage: 6,
    reportedBy:
      'a stage 6, 7 or 8 client when the person presses Ctrl-C, or Ctrl-D on an empty line, at a password or trust prompt; it exits 0, as leaving the chat does',
    wire: 'local',
    action: 'Nothing to undo: nothing was sent. Run the client again when ready.',
  },
};

/** How a code travels: `! CODE` lines exist in the plain-text stages 2–4 only. */
function wireWords(guide: CodeGuide): string {
  if (guide.wire === 'local') return 'no: the program prints it and exits';
  if (guide.wire === 'logged') return 'no: logged by the server';
  if (guide.wire === 'warned') {
    return 'no: the receiving client refuses the item, shows a warning and carries on';
  }
  const frame = '`{"type":"error","code":…}`';
  if (guide.stage >= 5) return `yes: ${frame} from stage ${guide.stage} on`;
  const first = Math.max(2, guide.stage);
  const lines = first === 4 ? 'in stage 4' : `in stages ${first}–4`;
  return `yes: \`! CODE: …\` ${lines}, ${frame} from stage 5 on`;
}

const chapter = (stage: number): string => {
  // A Part II stage links to its chapter once it joins the stage chain in
  // diffs.ts; until then the text names the stage without a link.
  const folder = STAGES[stage - 1];
  if (folder === undefined) return `stage ${stage}`;
  return `[stage ${stage}](../${folder}/README.md)`;
};

/** The markdown of docs/errors.md, before Prettier. */
export function renderErrorReference(): string {
  const codes = Object.keys(ERROR_CODES) as ChatErrorCode[];
  const stale = Object.keys(GUIDE).filter((code) => !Object.hasOwn(ERROR_CODES, code));
  if (stale.length > 0) throw new Error(`error-reference: no such codes: ${stale.join(', ')}`);
  const ordered = [...codes].sort((a, b) => GUIDE[a].stage - GUIDE[b].stage);
  const lines = [
    '---',
    'title: Error codes',
    '---',
    '',
    '# Error codes',
    '',
    'Generated by `npm run docs:generate` (tools/error-reference.ts) from `ERROR_CODES` in',
    '`shared/src/errors.ts`: do not edit by hand.',
    '',
    'Every failure caused by something outside the process (a bad line, a wrong password, a',
    'missing key file, a database outage) carries one of these stable codes. Programs and',
    'tests match on the **code**; the message next to it is for people and may change. Codes',
    'are part of the wire protocol from stage 2 on, so none is ever renamed. How they travel',
    'is in the [wire protocol](protocol.md#error-frames).',
    '',
    '| Code | Stage | Meaning |',
    '| ---- | ----- | ------- |',
    ...ordered.map(
      (code) =>
        `| [\`${code}\`](#${code.toLowerCase()}) | ${GUIDE[code].stage} | ${ERROR_CODES[code]} |`,
    ),
  ];
  for (const code of ordered) {
    const guide = GUIDE[code];
    lines.push(
      '',
      `## ${code}`,
      '',
      ERROR_CODES[code],
      '',
      `- **Introduced by:** ${chapter(guide.stage)}.`,
      `- **Reported by:** ${guide.reportedBy}.`,
      `- **On the wire:** ${wireWords(guide)}.`,
      `- **What to do:** ${guide.action}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The generator that writes docs/errors.md. */
export const errorReference: Generator = {
  name: 'error-reference',
  async generate(): Promise<GeneratedFile[]> {
    const content = await formatLikePrettier(ROOT, ERRORS_PATH, renderErrorReference());
    return [{ path: ERRORS_PATH, content }];
  },
};
