/**
 * The insider fuzzing sockets of the network fuzz: logged-in users (they
 * know the room key and their own password) sending fuzzed writes non-stop.
 */
import fc from 'fast-check';
import { logIn, type TestServer } from '../../testkit/stage6';
import { cutPoints } from '../arbitraries/bytes';
import { clientPayload } from '../arbitraries/payloads';
import { expectWhileChatting } from '../reference/chatting';
import { FUZZ_PASSWORD } from '../reference/handshake';
import { cut } from '../reference/lines';
import { describe, FrameQueue } from './frame-queue';
import type { Run } from './run-log';

/** One fuzzed write of an insider. */
export interface InsiderCase {
  payload: Uint8Array;
  offsets: number[];
}
/** Insider cases: a payload and how to cut it into writes. */
export const insiderCase: fc.Arbitrary<InsiderCase> = fc.record({
  payload: clientPayload,
  offsets: cutPoints,
});

const WHO = Buffer.from('{"type":"who"}\n');

/**
 * One insider's loop: log in as `fz-N`, then send fuzzed writes, each
 * followed by `who`, and check the replies against the prediction; after a
 * `FRAME_TOO_LARGE` close, log in again.
 *
 * @param t - the server
 * @param run - where violations and counts go
 * @param index - this insider's number (its username is `fz-<index>`)
 * @param cases - what to send
 */
export async function insider(
  t: TestServer,
  run: Run,
  index: number,
  cases: InsiderCase[],
): Promise<void> {
  const name = `fz-${index}`;
  const where = `insider ${name}`;
  const connect = async (register: boolean) => {
    const session = await logIn(t, name, FUZZ_PASSWORD, register);
    return { socket: session.socket, queue: new FrameQueue(session.socket, session.frames) };
  };
  let me = await connect(true);
  // Chat from other members and presence notices arrive at any time: skip them.
  const next = () => me.queue.nextExcept(['chat', 'joined', 'left']);
  for (const [n, c] of cases.entries()) {
    if (run.violations.length > 0) break;
    run.waits.set(where, `case ${n}: waiting for replies`);
    const bytes = Buffer.concat([c.payload, Buffer.from('\n'), WHO]);
    const expected = expectWhileChatting(bytes);
    const gone = expected.closes ? t.nextDisconnect(name) : undefined;
    for (const chunk of cut(bytes, c.offsets)) me.socket.write(chunk);
    for (const reply of expected.replies) {
      const arrival = await next();
      const ok =
        arrival.kind === 'frame' &&
        (reply.type === 'who'
          ? arrival.frame.type === 'who'
          : arrival.frame.type === 'error' && arrival.frame.code === reply.code);
      if (!ok) {
        run.violate(
          where,
          `expected ${JSON.stringify(reply)}, got ${describe(arrival)}`,
          c.payload,
        );
        break;
      }
      if (reply.type === 'error') run.count(reply.code);
    }
    if (gone !== undefined) {
      const arrival = await next();
      if (arrival.kind !== 'closed')
        run.violate(where, `expected the close, got ${describe(arrival)}`, c.payload);
      run.waits.set(where, `case ${n}: logging in again`);
      await gone;
      me = await connect(false);
    }
    run.insiderCases++;
  }
  me.socket.end();
  run.waits.delete(where);
}
