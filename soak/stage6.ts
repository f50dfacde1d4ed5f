/**
 * The soak's adapter for stage 6: a real `stage6-auth` server process
 * (temporary key, temporary SQLite user file, low bcrypt cost), sessions that
 * register and log in through the real client handshake, chat sealed with the
 * room key, and the role only a stage with logins has: intruders.
 *
 * Receiving opens each chat box with the real key and the `from` the server
 * attached, so a box the server altered, or relabelled, fails to open; the
 * session (session.ts) then checks the id inside against that `from`.
 *
 * **Intruders** never log in: wrong passwords, unknown users, tampered
 * credentials, garbage and frames before login, or a connection dropped
 * before or during the login. They connect from other loopback addresses
 * (127.0.0.10-59), as attackers would, so the failed-login rate limits they
 * trip are not those of the chatters on 127.0.0.1.
 *
 * The SQLite store is used (not MySQL): the soak is about the chat server,
 * and a file in a temporary folder needs no setup in CI.
 *
 * @module
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateKey, openText, sealText } from '../shared/src/crypto';
import type { ChatErrorCode } from '../shared/src/errors';
import { loadKeyFile, saveKeyFile } from '../shared/src/key-file';
import { MAX_FRAME_BYTES, type Decoded } from '../shared/src/protocol';
import { connectAndLogIn, FrameStream } from '../stage6-auth/src/client-login';
import {
  chatAssociatedData,
  credentialsAssociatedData,
  encodeClientFrame,
  formatCredentials,
  type ServerFrame,
} from '../stage6-auth/src/messages';
import { sealMessage } from '../stage6-auth/src/sealed-messages';
import { garbageFrame, invalidUtf8Frame, jsonBadFrames, oversizedFrame, pick } from './bad-frames';
import { pause } from './condition';
import { ServerChild } from './server-child';
import { Session, type Heard, type World } from './session';
import type { Cast, StageAdapter } from './stage';

/**
 * The password of a soak user (every soak user is created by the soak).
 *
 * @param username - the user
 */
export function passwordOf(username: string): string {
  return `soak-password-${username}`;
}

const randomInt = (n: number) => Math.floor(Math.random() * n);

/** What one stage 6 server frame means; chat boxes are opened here. */
function hear(key: Buffer, decoded: Decoded<ServerFrame>): Heard {
  if (!decoded.ok) return { type: 'undecodable', code: decoded.error.code };
  const frame = decoded.frame;
  switch (frame.type) {
    case 'chat':
      try {
        return {
          type: 'chat',
          from: frame.from,
          text: openText(key, frame.box, chatAssociatedData(frame.from)),
        };
      } catch {
        return { type: 'unopenable', from: frame.from, box: frame.box };
      }
    case 'error':
      return { type: 'error', code: frame.code };
    case 'joined':
      return { type: 'presence', online: frame.online };
    case 'left':
      return { type: 'presence', online: frame.online, left: frame.who };
    case 'bye':
      return { type: 'bye' };
    default:
      return { type: 'unexpected', what: `"${frame.type}"` };
  }
}

/**
 * Sends a box that no receiver may open: one byte of the tag flipped, or
 * sealed under another user's name (a forged sender).
 */
function sendTampered(key: Buffer, world: World, session: Session, forgeAs?: string): void {
  if (!session.writable) return;
  const text = `tampered by ${session.id}`;
  let box: string;
  if (forgeAs !== undefined) {
    box = sealText(key, text, chatAssociatedData(forgeAs));
  } else {
    const bytes = Buffer.from(sealText(key, text, chatAssociatedData(session.label)), 'base64');
    bytes[bytes.length - 1]! ^= 0x01; // a bit of the authentication tag
    box = bytes.toString('base64');
  }
  world.tampered.add(box);
  world.tally.count(forgeAs !== undefined ? 'forged-sender boxes sent' : 'tampered boxes sent');
  session.socket.write(encodeClientFrame({ type: 'chat', box }));
}

/** Stage 6 in the soak. */
export const stage6: StageAdapter = {
  name: 'stage6',
  logFormat: 'pino',
  setupBatch: 16, // well within the server's hashing queue
  maxFrameBytes: MAX_FRAME_BYTES,
  oneSessionPerUser: true,
  byeName: '"bye"',
  setupVerb: 'registered and logged in',
  // Every `who` answer lists the users online: megabytes a second unread.
  stuckFlood: {
    batch: Buffer.concat(Array.from({ length: 40 }, () => encodeClientFrame({ type: 'who' }))),
    count: 40,
    unit: 'who requests',
  },
  seconds: (options) => options.stage6Seconds,
  vandalInput: () => [garbageFrame(), invalidUtf8Frame(), ...jsonBadFrames()],
  leavingInput: () => [garbageFrame(), ...jsonBadFrames()],
  async start(options, world, onLine) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soak-stage6-'));
    const keyFile = path.join(dir, 'chat.key');
    saveKeyFile(keyFile, generateKey());
    const key = loadKeyFile(keyFile);
    const server = await ServerChild.start(
      'stage6-auth/bin/server.ts',
      [
        ...['--key-file', keyFile, '--db-file', path.join(dir, 'users.sqlite')],
        ...['--bcrypt-cost', String(options.bcryptCost), '--hash-queue', '1000'],
        // A test harness, not a deployment: hundreds of chatters register and
        // log in from 127.0.0.1 (16 at a time), so the per-address limits on
        // registrations, waiting connections and hashing jobs are lifted. The
        // error budget, the connection cap and the failed-login limits stay as
        // shipped: the vandals, churners and intruders run into them. The
        // message budget is lifted too: the stuck reader fills its own queue
        // by asking for `who` far faster than the budget's 5 a second (which
        // has its own test, stage6-auth/test/attack-chat-flood.test.ts).
        ...['--registrations-per-ip', '100000', '--registrations-per-minute', '100000'],
        ...['--max-prelogin-per-ip', '1000', '--hash-jobs-per-ip', '1000'],
        ...['--message-budget', '1000000000'],
      ],
      onLine,
      { CHAT_DB_URL: '' }, // SQLite even where the environment selects MySQL
    ).catch((err: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
    return {
      server,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
      async connect(cast, username, sessionNo, register) {
        const login = await connectAndLogIn({
          host: cast.host,
          port: cast.port,
          key,
          username,
          password: passwordOf(username),
          register,
        });
        const encode = (text: string) => sealMessage(key, username, text);
        const session = new Session(world, `${username}#${sessionNo}`, login.socket, encode);
        session.hear({ type: 'welcome', label: username });
        login.frames.listen((frame) => session.hear(hear(key, frame)));
        return session;
      },
      tamper(cast, session, r) {
        if (r < 0.13) sendTampered(key, world, session);
        else if (r < 0.16) {
          // Sealed under someone else's name (never its own: that box would open).
          const others = cast.steadyNames.filter((name) => name !== session.label);
          sendTampered(key, world, session, pick(others));
        } else return false;
        return true;
      },
      async intrude(cast, index) {
        let attempt = 0;
        while (!cast.stopping()) {
          attempt++;
          const localAddress = `127.0.0.${10 + ((index * 7 + attempt) % 50)}`;
          await intrudeOnce(cast, key, pick(INTRUSIONS), localAddress);
          await pause(randomInt(100));
        }
      },
    };
  },
};

/**
 * The ways an intruder's connection goes, with the error codes each must get.
 * A wrong password is listed twice: it is the commonest attack, and the one
 * that exercises the bcrypt workers and the rate limiter.
 */
const INTRUSIONS: readonly { kind: string; codes: readonly ChatErrorCode[] }[] = [
  { kind: 'wrong password', codes: ['AUTH_FAILED', 'RATE_LIMITED'] },
  { kind: 'wrong password', codes: ['AUTH_FAILED', 'RATE_LIMITED'] },
  { kind: 'unknown user', codes: ['AUTH_FAILED', 'RATE_LIMITED'] },
  { kind: 'tampered credentials', codes: ['DECRYPT_FAILED'] },
  { kind: 'garbage before login', codes: ['BAD_UTF8'] },
  { kind: 'bad JSON before login', codes: ['BAD_FRAME'] },
  { kind: 'chat before login', codes: ['NOT_LOGGED_IN'] },
  { kind: 'oversized before login', codes: ['FRAME_TOO_LARGE'] },
  { kind: 'vanish after hello', codes: [] },
  { kind: 'vanish mid-login', codes: [] },
];

/** One intruder connection, checked for the right refusal and for no room traffic at all. */
async function intrudeOnce(
  cast: Cast,
  key: Buffer,
  intrusion: (typeof INTRUSIONS)[number],
  localAddress: string,
): Promise<void> {
  const { tally } = cast.world;
  const socket = net.connect({ host: cast.host, port: cast.port, localAddress });
  socket.on('error', () => {}); // a reset is one of the endings; 'close' follows
  try {
    await once(socket, 'connect');
  } catch (err) {
    tally.problem('intruder could not connect', (err as Error).message);
    return;
  }
  const frames = new FrameStream(socket);
  const hello = await frames.next();
  if (hello === undefined || !hello.ok || hello.frame.type !== 'hello') {
    tally.problem('no hello', `${intrusion.kind}: ${hello?.ok ? hello.frame.type : 'closed'}`);
    socket.destroy();
    return;
  }
  const challenge = hello.frame.challenge;
  const credentialsBox = (username: string, password: string) =>
    sealText(
      key,
      formatCredentials(username, password, challenge),
      credentialsAssociatedData('login'),
    );
  // Few targets (20 victims, 10 unknown names, 50 addresses): the rate limiter
  // keeps a bucket per (user, address) that failed, by design, up to its cap.
  // With a bounded set of pairs that memory levels off instead of reading as a
  // leak in the memory check.
  const victim = pick(cast.steadyNames.slice(0, 20));
  const login = (box: string) => encodeClientFrame({ type: 'login', box });
  let bytes: Buffer | undefined;
  switch (intrusion.kind) {
    case 'wrong password':
      bytes = login(credentialsBox(victim, 'not-the-password'));
      break;
    case 'unknown user':
      bytes = login(credentialsBox(`nobody-${randomInt(10)}`, 'whatever-1'));
      break;
    case 'tampered credentials': {
      const box = Buffer.from(credentialsBox(victim, passwordOf(victim)), 'base64');
      box[box.length - 1]! ^= 0x01;
      bytes = login(box.toString('base64'));
      break;
    }
    case 'garbage before login':
      bytes = garbageFrame().bytes;
      break;
    case 'bad JSON before login':
      bytes = pick(jsonBadFrames()).bytes;
      break;
    case 'chat before login':
      bytes = encodeClientFrame({
        type: 'chat',
        box: sealText(key, 'hi', chatAssociatedData(victim)),
      });
      break;
    case 'oversized before login':
      bytes = oversizedFrame(MAX_FRAME_BYTES).bytes;
      break;
    case 'vanish mid-login': {
      const half = login(credentialsBox(victim, passwordOf(victim)));
      socket.write(half.subarray(0, half.length >> 1));
      break;
    }
  }
  tally.count(`intruders: ${intrusion.kind}`);
  if (bytes === undefined) {
    socket.destroy();
    return;
  }
  socket.write(bytes);
  // Everything the server sends until it closes the connection.
  const got: ServerFrame[] = [];
  for (let frame = await frames.next(); frame !== undefined; frame = await frames.next()) {
    if (frame.ok) got.push(frame.frame);
    else tally.problem('undecodable from the server', `intruder: ${frame.error.code}`);
  }
  const chats = got.filter((f) => f.type === 'chat' || f.type === 'joined' || f.type === 'left');
  if (chats.length > 0) {
    tally.problem(
      'room traffic to a client not logged in',
      `${intrusion.kind}: ${chats.length} frames`,
    );
  }
  tally.count('room frames to clients not logged in', chats.length);
  const answer = got.find((f) => f.type === 'error');
  const code = answer?.type === 'error' ? answer.code : undefined;
  if (got.length !== 1 || code === undefined || !intrusion.codes.includes(code)) {
    const seen = got.map((f) => (f.type === 'error' ? f.code : f.type)).join(',') || 'nothing';
    tally.problem(
      'wrong refusal',
      `${intrusion.kind}: got ${seen}, expected ${intrusion.codes.join('|')}`,
    );
  } else tally.count(`refusals: ${code}`);
}
