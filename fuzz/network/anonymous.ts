/**
 * The anonymous fuzzing sockets of the network fuzz: never logged in, each
 * from one of five loopback addresses (127.0.0.2–6, so the flood is spread
 * over five rate-limit budgets, each drained by six sockets at full size,
 * enough to see RATE_LIMITED without locking everything), connecting again
 * and again to send one first frame.
 */
import net from 'node:net';
import fc from 'fast-check';
import { ERROR_CODES } from '../../shared/src/errors';
import { rawConnect, type TestServer } from '../../testkit/stage6';
import { cutPoints } from '../arbitraries/bytes';
import {
  expectBeforeLogin,
  firstFrameCode,
  FUZZ_PASSWORD,
  handshakeCase,
  type HandshakeCase,
} from '../reference/handshake';
import { cut } from '../reference/lines';
import { describe, FrameQueue } from './frame-queue';
import type { Run } from './run-log';

/**
 * How an anonymous socket delivers its case: whole; without its last newline
 * and then half-closed; without its last newline and then silent (until the
 * login deadline); or reset after the first chunk.
 */
type Delivery = 'line' | 'unterminated' | 'silent' | 'reset';

/** One anonymous connection's case. */
export interface AnonCase {
  delivery: Delivery;
  first: HandshakeCase;
  offsets: number[];
}

/** Anonymous cases: any first frame; credentials only ever with a wrong password. */
export const anonCase: fc.Arbitrary<AnonCase> = fc.record({
  delivery: fc.oneof(
    { weight: 60, arbitrary: fc.constant<Delivery>('line') },
    { weight: 15, arbitrary: fc.constant<Delivery>('unterminated') },
    { weight: 15, arbitrary: fc.constant<Delivery>('reset') },
    // Each silent case waits out the login deadline: rare, or the run would crawl.
    { weight: 1, arbitrary: fc.constant<Delivery>('silent') },
  ),
  // Anonymous sockets do not know a password: they may only ever be refused.
  first: handshakeCase.map((c) =>
    c.kind === 'credentials'
      ? {
          ...c,
          type: 'login' as const,
          password: c.password === FUZZ_PASSWORD ? 'not-it' : c.password,
        }
      : c,
  ),
  offsets: cutPoints,
});

const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));
/** How many loopback addresses the anonymous sockets share. */
const ADDRESSES = 5;

/**
 * One anonymous socket's loop: a fresh connection per case, one first frame,
 * then the predicted error and the close (or just the close).
 *
 * @param t - the server
 * @param run - where violations and counts go
 * @param index - this socket's number (its loopback address derives from it)
 * @param cases - what to send
 * @param ownAddress - connect from 127.0.0.2–6 (see {@link loopbackAliasesWork}), not 127.0.0.1
 */
export async function anonymous(
  t: TestServer,
  run: Run,
  index: number,
  cases: AnonCase[],
  ownAddress: boolean,
): Promise<void> {
  const where = `anonymous socket ${index}`;
  const localAddress = ownAddress ? `127.0.0.${2 + (index % ADDRESSES)}` : undefined;
  for (const [n, c] of cases.entries()) {
    if (run.violations.length > 0) return;
    run.waits.set(where, `case ${n}: connecting`);
    const conn = await rawConnect(t.port, localAddress);
    const queue = new FrameQueue(conn.socket);
    const expected = expectBeforeLogin(c.first, conn.challenge, t.key);
    const chunks = cut(expected.bytes, c.offsets);
    run.waits.set(where, `case ${n} (${c.delivery}): waiting for the answer`);
    let codes: ReadonlySet<string> | undefined = expected.codes;
    if (c.delivery === 'reset') {
      conn.socket.write(chunks[0]!);
      conn.socket.destroy();
      codes = undefined;
    } else if (c.delivery === 'unterminated' || c.delivery === 'silent') {
      const bytes = expected.bytes.subarray(0, -1); // without its last newline
      for (const chunk of cut(bytes, c.offsets)) conn.socket.write(chunk);
      const code = firstFrameCode(bytes);
      if (c.delivery === 'unterminated') {
        conn.socket.end();
        codes = code === undefined ? undefined : new Set([code]);
      } else {
        codes = new Set([code ?? 'LOGIN_TIMEOUT']);
      }
    } else {
      for (const chunk of chunks) conn.socket.write(chunk);
    }
    if (codes !== undefined) {
      const answer = await queue.next();
      if (
        answer.kind !== 'frame' ||
        answer.frame.type !== 'error' ||
        !codes.has(answer.frame.code)
      ) {
        run.violate(
          where,
          `expected error ${[...codes].join('|')}, got ${describe(answer)}`,
          expected.bytes,
        );
      } else if (!KNOWN_CODES.has(answer.frame.code)) {
        run.violate(where, `unknown code ${answer.frame.code}`);
      } else {
        run.count(answer.frame.code);
      }
    }
    if (c.delivery !== 'reset') {
      const after = await queue.next();
      if (after.kind !== 'closed')
        run.violate(where, `expected the close, got ${describe(after)}`, expected.bytes);
    }
    conn.socket.destroy();
    run.anonCases++;
  }
  run.waits.delete(where);
}

/**
 * Whether this machine routes all of 127.0.0.0/8 to loopback (Linux does;
 * macOS only has 127.0.0.1 unless aliases are added). Without it, every
 * anonymous socket shares 127.0.0.1 and its rate-limit budget, and more of
 * their logins end as RATE_LIMITED, which is still an accepted answer.
 */
export function loopbackAliasesWork(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.2', port: 0 }, () => probe.close(() => resolve(true)));
  });
}
