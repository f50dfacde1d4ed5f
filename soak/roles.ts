/**
 * The people in the soak, one function per role, the same on every stage
 * (the stage's adapter supplies the protocol):
 *
 * - **steady chatters** are in the room before the load starts and chat at a
 *   steady rate until the end; every tenth is a *vandal* that also sends bad
 *   input, which the server answers and forgives (and, on stage 6, boxes no
 *   one may open: a flipped bit, a forged sender);
 * - **churners** join, chat a little, and leave one of four ways: vanishing
 *   mid-message (`destroy()`), ending politely, sending an oversized frame
 *   (answered, then closed), or sending bad input and then ending; then they
 *   come back;
 * - **the stuck reader** stops reading and keeps sending input that earns an
 *   answer (stage 4: a line with a carriage return inside; stage 6: `who`),
 *   so the server's queue for it grows until the server cuts it off.
 *
 * Stage 6's intruders, who never log in, are in stage6.ts.
 *
 * @module
 */
import { isChatError } from '../shared/src/errors';
import { oversizedFrame, pick } from './bad-frames';
import { pause } from './condition';
import type { Session } from './session';
import type { Cast } from './stage';

const randomInt = (n: number) => Math.floor(Math.random() * n);

/**
 * Makes a steady chatter talk every `periodMs` (first message at a random
 * offset, so the room's traffic is spread evenly) until the returned stop
 * function is called.
 *
 * @param cast - the server, the world and the stage
 * @param session - the chatter
 * @param periodMs - time between two of its messages
 * @param vandal - also send bad input (and, where the stage has them, unopenable boxes)
 * @returns a function that stops the timer
 */
export function chatSteadily(
  cast: Cast,
  session: Session,
  periodMs: number,
  vandal: boolean,
): () => void {
  const tick = () => {
    const r = Math.random();
    if (vandal && r < 0.1) session.sendBad(pick(cast.adapter.vandalInput()));
    else if (!(vandal && cast.stage.tamper?.(cast, session, r))) session.sendChat();
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
 * A churner: join, chat a little, leave one of four ways, repeat until the
 * load ends. Where a user holds one session at a time, it comes back only
 * once the server has seen it leave (the observer's `left` notice).
 *
 * @param cast - the server, the world and the stage
 * @param name - the churner's name (registered on its first login, where there are logins)
 */
export async function churn(cast: Cast, name: string): Promise<void> {
  const { tally } = cast.world;
  let sessions = 0;
  let joins = 0;
  while (!cast.stopping()) {
    sessions++;
    let session: Session;
    try {
      session = await cast.stage.connect(cast, name, sessions, sessions === 1);
    } catch (err) {
      const why = isChatError(err) ? err.code : (err as Error).message;
      tally.problem('churner could not join', `${name}: ${why}`);
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
      session.sendBad(oversizedFrame(cast.adapter.maxFrameBytes)); // answered, then closed
      cast.world.ledger.ended(session.id, true);
    } else {
      if (way === 'bad') session.sendBad(pick(cast.adapter.leavingInput()));
      session.end();
    }
    await session.whenClosed();
    if (cast.adapter.oneSessionPerUser) {
      // Log in again only once the server has seen this session leave, or the
      // next login would (rightly) get ALREADY_LOGGED_IN.
      const observer = cast.observer();
      await observer.changed.wait(
        () => observer.closed || (observer.lefts.get(session.label) ?? 0) >= joins,
      );
    }
    await pause(randomInt(200));
  }
}

/** What became of the stuck reader. */
export interface StuckReader {
  /** The server's name for it (label or username). */
  label: string;
  /** Items of its flood it sent (bad lines or `who` requests). */
  sent: number;
  /** True if the server closed it before the soak gave up on it. */
  closedByServer: boolean;
  /** Resolves when its connection closes. */
  closed: Promise<void>;
  /** Stops it and drops the connection (end of the run). */
  stop(): void;
}

/**
 * The stuck reader: joins, stops reading, and writes the stage's flood batch
 * every 20 ms. Every item earns an answer, so its unread output grows by
 * megabytes a second; once the kernel's buffers are full the server's queue
 * for it passes the cap and the server disconnects it. Its signature is
 * unmistakable (the only client that pauses its socket, under its own name),
 * so a client that is merely slow cannot be mistaken for it.
 *
 * @param cast - the server, the world and the stage
 */
export async function stuckReader(cast: Cast): Promise<StuckReader> {
  // In the ledger like anyone (it never sends, and is not present at the end).
  const session = await cast.stage.connect(cast, 'stuck-reader', 1, true);
  session.socket.pause(); // never read again
  const { batch, count } = cast.adapter.stuckFlood;
  let stopped = false;
  const reader: StuckReader = {
    label: session.label,
    sent: 0,
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
    reader.sent += count;
  }, 20);
  return reader;
}
