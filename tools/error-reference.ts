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
  | 'sent';

/** What the docs say about one code, besides its meaning. */
interface CodeGuide {
  /** The stage whose chapter introduces the code. */
  stage: 1 | 2 | 3 | 4 | 5 | 6;
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
      'a server whose hashing queue is full (stages 3 and 6) or whose user database is unreachable (stage 6)',
    wire: 'sent',
    action:
      'Try again after a short, growing wait. In stage 6 the server closes the connection: reconnect and log in again.',
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
      'a stage 5 or 6 client at startup (the stage 6 server makes a key on its first run instead)',
    wire: 'local',
    action:
      'Run `npm run keygen` once (or start the stage 6 server once), and give every member a copy of the key file (`--key-file` or `CHAT_KEY_FILE` says where).',
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
    reportedBy: 'the stage 6 server, to a connection that has not logged in by the deadline (30 s)',
    wire: 'sent',
    action: 'Reconnect and log in straight away.',
  },
  RATE_LIMITED: {
    stage: 6,
    reportedBy:
      'the stage 6 server, after too many failed logins for this user or from this address',
    wire: 'sent',
    action:
      'Wait before trying again: the limit lets one more attempt through every few seconds, so retrying in a tight loop only keeps it closed.',
  },
};

/** How a code travels: `! CODE` lines exist in the plain-text stages 2–4 only. */
function wireWords(guide: CodeGuide): string {
  if (guide.wire === 'local') return 'no: the program prints it and exits';
  if (guide.wire === 'logged') return 'no: logged by the server';
  const frame = '`{"type":"error","code":…}`';
  if (guide.stage === 6) return `yes: ${frame} (stage 6)`;
  if (guide.stage === 5) return `yes: ${frame} in stages 5–6`;
  return `yes: \`! CODE: …\` in stages ${Math.max(2, guide.stage)}–4, ${frame} in stages 5–6`;
}

const chapter = (stage: number): string => {
  const folder = STAGES[stage - 1];
  if (folder === undefined) throw new Error(`no stage ${stage}`);
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
