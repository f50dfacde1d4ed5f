/**
 * The people in the stage 4 soak: the same roles as stage 6 minus logins.
 *
 * - **steady chatters** chat at a steady rate for the whole run; every tenth
 *   also sends bad lines (garbage, invalid UTF-8, a carriage return inside a
 *   line), which the server answers and forgives;
 * - **churners** connect, chat a little and leave: vanishing mid-line,
 *   ending politely, sending an oversized line (answered, then closed), or
 *   sending a bad line and then ending; then they come back;
 * - **the stuck reader** stops reading and sends lines with a carriage
 *   return inside, 500 every 20 ms: each earns a 52-byte error line, so its
 *   unread output grows by about a megabyte a second until the server cuts
 *   it off.
 *
 * @module
 */
import { DEFAULT_MAX_FRAME_BYTES } from '../shared/src/framing';
import { garbageFrame, invalidUtf8Frame, oversizedFrame, pick, type BadFrame } from './bad-frames';
import { pause } from './condition';
import { Stage4Session, type Stage4World } from './stage4-session';

/** What every role needs. */
export interface Stage4Cast {
  /** The server's address. */
  host: string;
  /** The server's port. */
  port: number;
  /** Ledger, tally, labels. */
  world: Stage4World;
  /** True once the load phase is over. */
  stopping: () => boolean;
}

/** A carriage return inside a line: answered with `BAD_FRAME`, not fatal. */
export function carriageReturnLine(): BadFrame {
  return { kind: 'CR inside a line', bytes: Buffer.from('a\rb\n'), code: 'BAD_FRAME' };
}

const randomInt = (n: number) => Math.floor(Math.random() * n);

/**
 * Makes a steady chatter talk every `periodMs` until the returned function is called.
 *
 * @param session - the chatter
 * @param periodMs - time between two of its messages
 * @param vandal - also send bad lines
 * @returns a function that stops it
 */
export function chatSteadily(
  session: Stage4Session,
  periodMs: number,
  vandal: boolean,
): () => void {
  const tick = () => {
    if (vandal && Math.random() < 0.1) {
      session.sendBad(pick([garbageFrame(), invalidUtf8Frame(), carriageReturnLine()]));
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
 * A churner: connect, chat a little, leave one of four ways, repeat.
 *
 * @param cast - the server and the world
 * @param name - the churner's name (its sessions are `name#1`, `name#2`…)
 */
export async function churn(cast: Stage4Cast, name: string): Promise<void> {
  const { tally } = cast.world;
  let sessions = 0;
  while (!cast.stopping()) {
    sessions++;
    let session: Stage4Session;
    try {
      session = await Stage4Session.connect(cast.world, cast, `${name}#${sessions}`);
    } catch (err) {
      tally.problem('churner could not join', (err as Error).message);
      await pause(500);
      continue;
    }
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
      session.sendBad(oversizedFrame(DEFAULT_MAX_FRAME_BYTES));
      cast.world.ledger.ended(session.id, true);
    } else {
      if (way === 'bad') session.sendBad(pick([garbageFrame(), carriageReturnLine()]));
      session.end();
    }
    await session.whenClosed();
    await pause(randomInt(200));
  }
}

/** What became of the stuck reader. */
export interface StuckReader4 {
  /** Its label. */
  label: string;
  /** Bad lines it sent. */
  linesSent: number;
  /** True if the server closed it before the soak gave up on it. */
  closedByServer: boolean;
  /** Resolves when its connection closes. */
  closed: Promise<void>;
  /** Stops it and drops the connection. */
  stop(): void;
}

/**
 * The stuck reader (see the module comment).
 *
 * @param cast - the server and the world
 */
export async function stuckReader(cast: Stage4Cast): Promise<StuckReader4> {
  // In the ledger like anyone (it never sends, and is not present at the end).
  const session = await Stage4Session.connect(cast.world, cast, 'stuck-reader#1');
  session.socket.pause();
  const batch = Buffer.concat(Array.from({ length: 500 }, () => carriageReturnLine().bytes));
  let stopped = false;
  const reader: StuckReader4 = {
    label: session.label,
    linesSent: 0,
    closedByServer: false,
    closed: session.whenClosed().then(() => {
      reader.closedByServer = !stopped;
      clearInterval(flood);
    }),
    stop: () => {
      stopped = true;
      clearInterval(flood);
      session.socket.destroy();
    },
  };

  const flood = setInterval(() => {
    // It keeps going after the load ends, until the server drops it or the soak stops it.
    if (session.socket.destroyed) return;
    session.socket.write(batch);
    reader.linesSent += 500;
  }, 20);
  return reader;
}
