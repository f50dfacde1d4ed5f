/**
 * The people in the stage 6 soak, one function per role:
 *
 * - **steady chatters** log in before the load starts and chat at a steady
 *   rate until the end; every tenth is a *vandal* that also sends bad frames
 *   (garbage, invalid UTF-8, bad JSON, unknown types) and boxes no one may
 *   open (a flipped bit, a forged sender);
 * - **churners** log in, chat a little, and leave one of four ways: vanishing
 *   mid-frame (`destroy()`), ending politely, sending an oversized frame, or
 *   sending bad frames and then ending; then they log in again;
 * - **intruders** never log in: wrong passwords, unknown users, tampered
 *   credentials, garbage and frames before login, or a connection dropped
 *   before or during the login. They connect from other loopback addresses
 *   (127.0.0.10-59), as attackers would, so the failed-login rate limits they
 *   trip are not those of the chatters on 127.0.0.1;
 * - **the stuck reader** logs in, stops reading, and keeps asking `who`, so
 *   the server's queue for it grows until the server cuts it off.
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import { sealText } from '../shared/src/crypto';
import { isChatError, type ChatErrorCode } from '../shared/src/errors';
import { MAX_FRAME_BYTES } from '../shared/src/protocol';
import { connectAndLogIn, FrameStream } from '../stage6-auth/src/client-login';
import {
  chatAssociatedData,
  credentialsAssociatedData,
  encodeClientFrame,
  formatCredentials,
  type ServerFrame,
} from '../stage6-auth/src/messages';
import {
  garbageFrame,
  invalidUtf8Frame,
  jsonBadFrames,
  oversizedFrame,
  pick,
  type BadFrame,
} from './bad-frames';
import { pause } from './condition';
import { Stage6Session, type Stage6World } from './stage6-session';

/** What every role needs: where the server is, the shared world, and the stop flag. */
export interface Stage6Cast {
  /** The server's address. */
  host: string;
  /** The server's port. */
  port: number;
  /** Key, ledger, tally, tampered boxes. */
  world: Stage6World;
  /** A steady chatter that never misbehaves: it counts `left` notices for the churners. */
  observer: () => Stage6Session;
  /** Usernames of the steady chatters (targets for wrong passwords and forgeries). */
  steadyNames: readonly string[];
  /** True once the load phase is over: loops finish their current step and return. */
  stopping: () => boolean;
}

/**
 * The password of a soak user (every soak user is created by the soak).
 *
 * @param username - the user
 */
export function passwordOf(username: string): string {
  return `soak-password-${username}`;
}

const randomInt = (n: number) => Math.floor(Math.random() * n);

/**
 * Connects and logs in (registering with `register`), as a steady chatter or
 * a churner would.
 *
 * @param cast - the server and the world
 * @param username - who
 * @param sessionNo - this user's connection number
 * @param register - create the account first
 */
export async function logIn(
  cast: Stage6Cast,
  username: string,
  sessionNo: number,
  register: boolean,
): Promise<Stage6Session> {
  const login = await connectAndLogIn({
    host: cast.host,
    port: cast.port,
    key: cast.world.key,
    username,
    password: passwordOf(username),
    register,
  });
  return new Stage6Session(cast.world, login, sessionNo);
}

/**
 * Makes a steady chatter talk every `periodMs` (first message at a random
 * offset, so the room's traffic is spread evenly) until the returned stop
 * function is called.
 *
 * @param cast - the server and the world
 * @param session - the chatter
 * @param periodMs - time between two of its messages
 * @param vandal - also send bad frames and unopenable boxes
 * @returns a function that stops the timer
 */
export function chatSteadily(
  cast: Stage6Cast,
  session: Stage6Session,
  periodMs: number,
  vandal: boolean,
): () => void {
  const badFrames = (): BadFrame[] => [garbageFrame(), invalidUtf8Frame(), ...jsonBadFrames()];
  const tick = () => {
    const r = Math.random();
    if (vandal && r < 0.1) session.sendBad(pick(badFrames()));
    else if (vandal && r < 0.13) session.sendTampered();
    else if (vandal && r < 0.16) {
      // Sealed under someone else's name (never its own: that box would open).
      session.sendTampered(pick(cast.steadyNames.filter((name) => name !== session.username)));
    } else session.sendChat();
  };
  let interval: NodeJS.Timeout | undefined;
  const start = setTimeout(() => {
    tick();
    interval = setInterval(tick, periodMs);
  }, Math.random() * periodMs);
  return () => {
    clearTimeout(start);
    clearInterval(interval);
  };
}

/**
 * A churner: log in, chat a little, leave one of four ways, wait until the
 * server has seen it leave (the observer's `left` notice), repeat until the
 * load ends.
 *
 * @param cast - the server and the world
 * @param username - the churner's account (registered on its first login)
 */
export async function churn(cast: Stage6Cast, username: string): Promise<void> {
  const { tally } = cast.world;
  let sessions = 0;
  let joins = 0;
  while (!cast.stopping()) {
    sessions++;
    let session: Stage6Session;
    try {
      session = await logIn(cast, username, sessions, sessions === 1);
    } catch (err) {
      tally.problem('churner login refused', `${username}: ${isChatError(err) ? err.code : err}`);
      await pause(500);
      continue;
    }
    joins++;
    tally.count('churner sessions');
    const messages = cast.stopping() ? 0 : 1 + randomInt(5);
    for (let i = 0; i < messages && session.writable && !cast.stopping(); i++) {
      session.sendChat();
      await pause(50 + randomInt(300));
    }
    const way = cast.stopping() ? 'end' : pick(['vanish', 'vanish', 'end', 'oversized', 'bad']);
    tally.count(`churners leaving: ${way}`);
    if (way === 'vanish') session.vanishMidFrame();
    else if (way === 'oversized') {
      session.sendBad(oversizedFrame(MAX_FRAME_BYTES)); // the server answers and closes
      cast.world.ledger.ended(session.id, true);
    } else {
      if (way === 'bad') session.sendBad(pick([garbageFrame(), ...jsonBadFrames()]));
      session.end();
    }
    await session.whenClosed();
    // One session per user: log in again only once the server has seen this
    // one leave, or the next login would (rightly) get ALREADY_LOGGED_IN.
    const observer = cast.observer();
    await observer.changed.wait(
      () => observer.closed || (observer.lefts.get(username) ?? 0) >= joins,
    );
    await pause(randomInt(200));
  }
}

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

/**
 * An intruder: one connection after another that never logs in, each
 * checked for the right refusal and for receiving no chat at all.
 *
 * @param cast - the server and the world
 * @param index - which intruder (spreads them over source addresses)
 */
export async function intrude(cast: Stage6Cast, index: number): Promise<void> {
  let attempt = 0;
  while (!cast.stopping()) {
    attempt++;
    const localAddress = `127.0.0.${10 + ((index * 7 + attempt) % 50)}`;
    await intrudeOnce(cast, pick(INTRUSIONS), localAddress);
    await pause(randomInt(100));
  }
}

async function intrudeOnce(
  cast: Stage6Cast,
  intrusion: (typeof INTRUSIONS)[number],
  localAddress: string,
): Promise<void> {
  const { tally, key } = cast.world;
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
  let bytes: Buffer | undefined;
  switch (intrusion.kind) {
    case 'wrong password':
      bytes = encodeClientFrame({ type: 'login', box: credentialsBox(victim, 'not-the-password') });
      break;
    case 'unknown user':
      bytes = encodeClientFrame({
        type: 'login',
        box: credentialsBox(`nobody-${randomInt(10)}`, 'whatever-1'),
      });
      break;
    case 'tampered credentials': {
      const box = Buffer.from(credentialsBox(victim, passwordOf(victim)), 'base64');
      box[box.length - 1]! ^= 0x01;
      bytes = encodeClientFrame({ type: 'login', box: box.toString('base64') });
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
      const login = encodeClientFrame({
        type: 'login',
        box: credentialsBox(victim, passwordOf(victim)),
      });
      socket.write(login.subarray(0, login.length >> 1));
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
    else tally.problem('undecodable frame from the server', `intruder: ${frame.error.code}`);
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

/** What became of the stuck reader. */
export interface StuckReader {
  /** Its username. */
  username: string;
  /** `who` requests it sent. */
  whoSent: number;
  /** Resolves when its connection closes. */
  closed: Promise<void>;
  /** True if it closed before the soak gave up on it. */
  closedByServer: boolean;
  /** Stops asking and drops the connection (end of the run). */
  stop(): void;
}

/**
 * The stuck reader: logs in, stops reading, and asks `who` 40 times every
 * 20 ms. Every answer lists the users online, so its unread output grows by
 * megabytes a second; once the kernel's buffers are full the server's queue
 * for it passes the cap and the server disconnects it. Its signature is
 * unmistakable (the only client that pauses its socket, under its own
 * username), so a client that is merely slow cannot be mistaken for it.
 *
 * @param cast - the server and the world
 * @param username - its account (registered here)
 */
export async function stuckReader(cast: Stage6Cast, username: string): Promise<StuckReader> {
  const login = await connectAndLogIn({
    host: cast.host,
    port: cast.port,
    key: cast.world.key,
    username,
    password: passwordOf(username),
    register: true,
  });
  const { socket } = login;
  socket.pause(); // never read again
  const batch = Buffer.concat(Array.from({ length: 40 }, () => encodeClientFrame({ type: 'who' })));
  let stopped = false;
  const reader: StuckReader = {
    username,
    whoSent: 0,
    closedByServer: false,
    // Not events.once: it would reject on the 'error' (a reset) that comes first.
    closed: new Promise<void>((resolve) => socket.once('close', resolve)).then(() => {
      reader.closedByServer = !stopped;
      clearInterval(flood);
    }),
    stop: () => {
      stopped = true;
      clearInterval(flood);
      socket.destroy();
    },
  };
  const flood = setInterval(() => {
    // It keeps asking after the load ends, until the server drops it or the soak stops it.
    if (socket.destroyed) return;
    socket.write(batch);
    reader.whoSent += 40;
  }, 20);
  return reader;
}
