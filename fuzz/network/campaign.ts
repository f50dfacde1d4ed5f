/**
 * The network fuzz: a real stage 6 server (in-process, port 0), a few real
 * clients chatting through it, and many fuzzing sockets at once:
 *
 * - **anonymous** sockets (from loopback addresses 127.0.0.2–6, so they
 *   have rate-limit budgets of their own) connect again and again and send
 *   one fuzzed first frame: a payload, or credentials sealed with the room
 *   key but with wrong passwords and hostile values; sometimes unterminated
 *   and half-closed, unterminated and silent (until the login deadline), or
 *   reset mid-write (./anonymous.ts). Each must get only an error
 *   frame with the predicted stable code and a close, or just a close:
 *   never a chat, notice or welcome.
 * - **insider** sockets log in as fuzz users and then send fuzzed writes
 *   non-stop; each write must get exactly the replies the protocol rules
 *   predict (../reference/chatting.ts), and a close only after FRAME_TOO_LARGE
 *   (./insider.ts). The server's error budget is lifted for this (the model
 *   has none); everything else runs with the shipped limits.
 *
 * Meanwhile the real clients must be undisturbed (see ./real-chat.ts), the
 * server must log no error, and at the end a newcomer must still be able to
 * log in and chat. The payloads come from fast-check generators seeded from
 * the campaign seed, so a seed always sends the same payloads (their
 * interleaving across sockets is up to the scheduler).
 */
import fc from 'fast-check';
import { openText } from '../../shared/src/crypto';
import { chatAssociatedData } from '../../stage6-auth/src/messages';
import { sealMessage } from '../../stage6-auth/src/sealed-messages';
import { logIn, startTestServer, type TestServer } from '../../testkit/stage6';
import type { Campaign, FuzzTarget, Outcome, RunOptions } from '../campaign';
import { FUZZ_PASSWORD } from '../reference/handshake';
import { anonCase, anonymous, loopbackAliasesWork } from './anonymous';
import { describe, FrameQueue } from './frame-queue';
import { insider, insiderCase } from './insider';
import { RealChat } from './real-chat';
import { Run } from './run-log';

/** The server's login deadline in the network fuzz. */
const LOGIN_TIMEOUT_MS = 3_000;
/** A stall is reported when nothing at all progressed for this long. */
const STALL_MS = 30_000;

/** Sizes of one network fuzz run. */
export interface NetworkOptions {
  /** Anonymous fuzzing sockets (sharing five loopback addresses). */
  anonymous: number;
  /** Logged-in fuzzing sockets. */
  insiders: number;
  /** Real chatting clients. */
  realClients: number;
}

/**
 * Runs the network fuzz once.
 *
 * @param options - seed and size (`numRuns` fuzzed writes in all, shared among the sockets)
 * @param sizes - how many sockets of each kind
 */
export async function runNetworkFuzz(options: RunOptions, sizes: NetworkOptions): Promise<Outcome> {
  // Without loopback aliases, every socket shares 127.0.0.1 and the
  // anonymous flood's failures would lock the insiders out of logging in
  // again: then the rate limits are lifted (and RATE_LIMITED goes untested).
  const ownAddresses = await loopbackAliasesWork();
  const unlimited = { capacity: 1_000_000_000, refillMs: 1 };
  const t = await startTestServer({
    // Short enough for the silent cases, long enough that a fuzzer logging
    // in again on a busy machine never hits it.
    loginTimeoutMs: LOGIN_TIMEOUT_MS,
    // The insiders' replies are checked against a model that answers every
    // bad frame, for ever: no error budget here (it has its own test,
    // stage6-auth/test/attack-bad-frames.test.ts). Every other limit is as shipped.
    errorBudget: { capacity: 1_000_000_000, refillMs: 1 },
    rateLimits: ownAddresses
      ? undefined
      : { perIp: unlimited, perUserIp: unlimited, perUser: unlimited },
  });
  const run = new Run();
  const chat = await RealChat.start(t, sizes.realClients);
  const sockets = sizes.anonymous + sizes.insiders;
  const perSocket = Math.max(1, Math.ceil(options.numRuns / sockets));
  // Each socket draws its own cases from its own seed: the same campaign
  // seed always produces the same payloads on the same socket.
  const cases = <T>(arbitrary: fc.Arbitrary<T>, i: number) =>
    fc.sample(arbitrary, { seed: (options.seed + i * 7919) | 0, numRuns: perSocket });
  const started = performance.now();
  let watchdog: NodeJS.Timeout | undefined;
  let finished = false;
  try {
    // Insiders (and real clients) connect from 127.0.0.1, anonymous sockets
    // from 127.0.0.2–6: the anonymous flood's failed logins never spend the
    // budget of an address that has to log in again.
    const insiders = Array.from({ length: sizes.insiders }, (_, i) =>
      insider(t, run, i, cases(insiderCase, sizes.anonymous + i)),
    );
    const anonymousSockets = Array.from({ length: sizes.anonymous }, (_, i) =>
      anonymous(t, run, i, cases(anonCase, i), ownAddresses),
    );
    chat.run();
    const stalled = new Promise<void>((_, reject) => {
      let last = -1;
      watchdog = setInterval(() => {
        const now = run.progress + chat.delivered;
        if (now === last && !finished) {
          reject(
            new Error(
              `no progress for ${STALL_MS / 1000} s; waiting: ${[...run.waits.entries()].map(([k, v]) => `${k}: ${v}`).join('; ')}; ${chat.describeWaits()}`,
            ),
          );
        }
        last = now;
      }, STALL_MS);
    });
    stalled.catch(() => {});
    await Promise.race([Promise.all([...insiders, ...anonymousSockets]), stalled]);
    await Promise.race([chat.stop(), stalled]);
    finished = true;
    await checkServerAlive(t, run);
  } catch (err) {
    run.violate('network fuzz', (err as Error).message);
  } finally {
    finished = true;
    clearInterval(watchdog);
    chat.close();
    await t.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const violations = [...run.violations, ...chat.violations];
  for (const line of t.logLines) {
    const record = JSON.parse(line) as { level?: number; msg?: string };
    if ((record.level ?? 0) >= 50) violations.push(`server logged an error: ${line.slice(0, 300)}`);
  }
  const numRuns = run.anonCases + run.insiderCases;
  return {
    failed: violations.length > 0,
    numRuns,
    report:
      violations.length === 0
        ? undefined
        : `network fuzz failed (seed ${options.seed}, ${numRuns} writes done in ${seconds.toFixed(1)} s):\n` +
          violations
            .slice(0, 10)
            .map((v) => `  - ${v}`)
            .join('\n') +
          (violations.length > 10 ? `\n  … and ${violations.length - 10} more` : ''),
    stats: {
      sockets,
      anonymous: run.anonCases,
      insider: run.insiderCases,
      'real messages delivered': chat.delivered,
      'error frames': [...run.codes.values()].reduce((a, b) => a + b, 0),
      ...Object.fromEntries([...run.codes.entries()].sort()),
    },
  };
}

/** After the fuzz: a newcomer can still log in, and a real client hears it. */
async function checkServerAlive(t: TestServer, run: Run): Promise<void> {
  const newcomer = await logIn(t, 'newcomer', FUZZ_PASSWORD, true);
  const listener = await logIn(t, 'listener', FUZZ_PASSWORD, true);
  const queue = new FrameQueue(listener.socket, listener.frames);
  newcomer.socket.write(sealMessage(t.key, 'newcomer', 'still here?'));
  const arrival = await queue.nextExcept(['joined', 'left']);
  if (
    arrival.kind !== 'frame' ||
    arrival.frame.type !== 'chat' ||
    arrival.frame.from !== 'newcomer' ||
    openText(t.key, arrival.frame.box, chatAssociatedData('newcomer')) !== 'still here?'
  ) {
    run.violate('after the fuzz', `a newcomer's message did not arrive: ${describe(arrival)}`);
  }
  newcomer.socket.destroy();
  listener.socket.destroy();
}

/** The sizes of the full network fuzz. */
export const FULL_SIZES: NetworkOptions = { anonymous: 30, insiders: 10, realClients: 4 };
/** The sizes of the CI slice: fewer sockets, same kinds. */
export const CI_SIZES: NetworkOptions = { anonymous: 15, insiders: 5, realClients: 3 };

/** The network fuzz as a campaign target; `runs` is the number of fuzzed writes. */
export const networkFuzz: FuzzTarget = {
  name: 'network',
  about: 'real server, real chatting clients, 40 fuzzing sockets (30 anonymous, 10 logged in)',
  fullRuns: 20_000,
  ciRuns: 400,
  prepare: (scale) =>
    Promise.resolve<Campaign>({
      check: (options) => runNetworkFuzz(options, scale === 'ci' ? CI_SIZES : FULL_SIZES),
      close: () => Promise.resolve(),
    }),
};
