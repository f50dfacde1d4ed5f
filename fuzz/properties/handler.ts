/**
 * Fuzz targets for the stage 6 server's frame handler (the Connection class
 * in stage6-auth/src/connection.ts). It has no entry point that works
 * without a socket, so these drive a real in-process server (port 0) over
 * real sockets: the handler is exercised exactly as in production, at a few
 * thousand cases per second instead of a pure function's tens of thousands.
 *
 * - `handler.chatting`: two long-lived logged-in connections; one sends
 *   fuzzed bytes (cut into random writes) and a `who`, and both must see
 *   exactly what the protocol rules predict (../reference/chatting.ts):
 *   the sender its error frames and `who`, the other member the relays.
 * - `handler.handshake`: a fresh connection per case sends one fuzzed frame,
 *   or sealed credentials with hostile values, before logging in; it must get
 *   `hello`, then one `error` with the predicted code and a close (or a
 *   `welcome`, for credentials that happen to be right), nothing else.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { logIn, rawConnect, startTestServer, type TestServer } from '../../testkit/stage6';
import { cutPoints } from '../arbitraries/bytes';
import { clientPayload } from '../arbitraries/payloads';
import { checkProperty, type Campaign, type FuzzTarget } from '../campaign';
import { describe, FrameQueue } from '../network/frame-queue';
import { expectWhileChatting } from '../reference/chatting';
import { expectBeforeLogin, FUZZ_PASSWORD, handshakeCase } from '../reference/handshake';
import { cut } from '../reference/lines';

const WHO = Buffer.from('{"type":"who"}\n');
/** A hang is a failure too; no case takes a tenth of this on a busy machine. */
const CASE_TIMEOUT_MS = 20_000;

/** A logged-in connection and the queue of what it receives. */
interface Session {
  end(): void;
  destroy(): void;
  write(bytes: Uint8Array): void;
  queue: FrameQueue;
}

async function session(t: TestServer, name: string, register: boolean): Promise<Session> {
  const s = await logIn(t, name, FUZZ_PASSWORD, register);
  return {
    end: () => s.socket.end(),
    destroy: () => s.socket.destroy(),
    write: (bytes) => s.socket.write(bytes),
    queue: new FrameQueue(s.socket, s.frames),
  };
}

async function expectFrame<T extends string>(
  queue: FrameQueue,
  type: T,
  check: (frame: Record<string, unknown>) => boolean = () => true,
  what: string = type,
): Promise<void> {
  const arrival = await queue.nextIgnoringPresence();
  if (
    arrival.kind !== 'frame' ||
    arrival.frame.type !== type ||
    !check(arrival.frame as unknown as Record<string, unknown>)
  ) {
    throw new Error(`expected ${what}, got ${describe(arrival)}`);
  }
}

/** Fuzzed bytes on a logged-in connection get exactly the predicted answers. */
export const handlerChatting: FuzzTarget = {
  name: 'handler.chatting',
  about: 'stage 6 server, logged in: fuzzed writes get exactly the predicted errors, relays, who',
  fullRuns: 20_000,
  ciRuns: 300,
  prepare: async (): Promise<Campaign> => {
    // No error budget: the reference model predicts one reply per bad frame,
    // for ever, and at once, so no message budget either. (Each is tested on
    // its own: stage6-auth/test/attack-bad-frames.test.ts, attack-chat-flood.test.ts.)
    const unlimited = { capacity: 1_000_000_000, refillMs: 1 };
    const t = await startTestServer({ errorBudget: unlimited, messageBudget: unlimited });
    // A failed case may leave replies unread on either connection, which the
    // next case (fast-check shrinking) would take for its own: so after a
    // failure, both are replaced by fresh users with new names.
    let generation = 0;
    let names = { fuzzer: 'fuzzer0', observer: 'observer0' };
    let fuzzer = await session(t, names.fuzzer, true);
    let observer = await session(t, names.observer, true);
    const isPair = (f: Record<string, unknown>) =>
      f.count === 2 &&
      isDeepStrictEqual([...(f.online as string[])].sort(), [names.fuzzer, names.observer].sort());
    const oneCase = async (payload: Uint8Array, offsets: number[]) => {
      const bytes = Buffer.concat([payload, Buffer.from('\n'), WHO]);
      const expected = expectWhileChatting(bytes);
      const gone = expected.closes ? t.nextDisconnect(names.fuzzer) : undefined;
      for (const chunk of cut(bytes, offsets)) fuzzer.write(chunk);
      for (const reply of expected.replies) {
        if (reply.type === 'who') await expectFrame(fuzzer.queue, 'who', isPair);
        else {
          const code = (f: Record<string, unknown>) => f.code === reply.code;
          await expectFrame(fuzzer.queue, 'error', code, `error ${reply.code}`);
        }
      }
      for (const box of expected.relays) {
        const relayed = (f: Record<string, unknown>) => f.from === names.fuzzer && f.box === box;
        await expectFrame(observer.queue, 'chat', relayed, `the relay of ${box.slice(0, 20)}…`);
      }
      if (gone !== undefined) {
        const arrival = await fuzzer.queue.nextIgnoringPresence();
        if (arrival.kind !== 'closed')
          throw new Error(`expected a close, got ${describe(arrival)}`);
        await gone;
        fuzzer = await session(t, names.fuzzer, false);
      }
    };
    const property = fc.asyncProperty(clientPayload, cutPoints, async (payload, offsets) => {
      try {
        await oneCase(payload, offsets);
      } catch (err) {
        fuzzer.destroy();
        observer.destroy();
        generation++;
        names = { fuzzer: `fuzzer${generation}`, observer: `observer${generation}` };
        fuzzer = await session(t, names.fuzzer, true);
        observer = await session(t, names.observer, true);
        throw err;
      }
    });
    return {
      check: async (options) => {
        const outcome = await checkProperty(property, options, { timeout: CASE_TIMEOUT_MS });
        if (!outcome.failed) {
          // Nothing left over: the next thing either side hears answers this `who`.
          fuzzer.write(WHO);
          await expectFrame(fuzzer.queue, 'who', isPair);
          observer.write(WHO);
          await expectFrame(observer.queue, 'who', isPair);
        }
        return outcome;
      },
      close: async () => {
        fuzzer.end();
        observer.end();
        await t.close();
      },
    };
  },
};

/** One fuzzed frame before login: `hello`, one predicted error (or welcome), then the close. */
export const handlerHandshake: FuzzTarget = {
  name: 'handler.handshake',
  about:
    'stage 6 server, before login: one fuzzed frame → exactly the predicted error code, then close',
  fullRuns: 10_000,
  ciRuns: 200,
  prepare: async (): Promise<Campaign> => {
    // Generous rate limits (registrations too), so sealed credentials reach the
    // deeper checks instead of all ending as RATE_LIMITED (which stays an
    // accepted answer).
    const generous = { capacity: 1_000_000_000, refillMs: 1 };
    const t = await startTestServer({
      rateLimits: {
        perIp: generous,
        perUserIp: generous,
        perUser: generous,
        registrationsPerIp: generous,
        registrations: generous,
      },
    });
    const alice = await session(t, 'alice', true);
    const aliceGone = t.nextDisconnect('alice');
    alice.end();
    await aliceGone;
    const property = fc.asyncProperty(handshakeCase, cutPoints, async (c, offsets) => {
      const conn = await rawConnect(t.port);
      const queue = new FrameQueue(conn.socket);
      const expected = expectBeforeLogin(c, conn.challenge, t.key);
      for (const chunk of cut(expected.bytes, offsets)) conn.socket.write(chunk);
      const answer = await queue.next();
      if (answer.kind === 'frame' && answer.frame.type === 'welcome' && expected.welcome) {
        // Right credentials (a registration, or alice's password): leave, and
        // let the server release the name before the next case may use it.
        const gone = t.nextDisconnect(answer.frame.user);
        conn.socket.end();
        await gone;
      } else if (
        answer.kind !== 'frame' ||
        answer.frame.type !== 'error' ||
        !expected.codes.has(answer.frame.code)
      ) {
        conn.socket.destroy();
        throw new Error(`expected error ${[...expected.codes].join('|')}, got ${describe(answer)}`);
      }
      const after = await queue.next();
      if (after.kind !== 'closed') throw new Error(`expected the close, got ${describe(after)}`);
    });
    return {
      check: (options) => checkProperty(property, options, { timeout: CASE_TIMEOUT_MS }),
      close: () => t.close(),
    };
  },
};
