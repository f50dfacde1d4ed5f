// Stage 6: logins that ignore case, without a way around the rate limit.
// (Registration already refuses a name that differs from a taken one only by
// case; logging in still needs the exact spelling. This exercise changes that.)
// The task is in stage6-auth/README.md, section "Exercises".
import assert from 'node:assert/strict';
import type { CheckContext, Exercise } from '../../kit/check';

/** A server frame, as far as this check looks at it. */
interface Answer {
  type: string;
  user?: string;
  code?: string;
}

/** What this exercise uses from the stage 6 test harness (its API does not change). */
interface Harness {
  startTestServer(options?: {
    rateLimits?: { perUserIp?: { capacity: number; refillMs: number } };
  }): Promise<{
    port: number;
    key: Buffer;
    leave(socket: unknown, username: string): Promise<void>;
    close(): Promise<void>;
  }>;
  rawConnect(port: number): Promise<{ socket: { end(): void }; closed: Promise<void> }>;
  rawAuth(
    conn: unknown,
    key: Uint8Array,
    type: 'login' | 'register',
    username: string,
    password: string,
  ): Promise<Answer>;
}

const PASSWORD = 'correct horse battery';

/**
 * A stage 6 server (in-memory SQLite, bcrypt cost 4) and two functions: one
 * makes a register or login attempt on a fresh connection (a connection that
 * got in stays open until the check ends, so its user stays online), the
 * other registers "Alice" and logs her out again.
 */
async function start(ctx: CheckContext, perUserIpFailures?: number) {
  const h = ctx.load<Harness>('stage6-auth/test/harness');
  const rateLimits =
    perUserIpFailures === undefined
      ? undefined
      : { perUserIp: { capacity: perUserIpFailures, refillMs: 3_600_000 } };
  const t = await h.startTestServer({ rateLimits });
  ctx.defer(() => t.close());
  const connectAndAuth = async (type: 'login' | 'register', username: string, password: string) => {
    const conn = await h.rawConnect(t.port);
    ctx.defer(() => conn.socket.end());
    return { conn, answer: await h.rawAuth(conn, t.key, type, username, password) };
  };
  const attempt = async (type: 'login' | 'register', username: string, password = PASSWORD) =>
    (await connectAndAuth(type, username, password)).answer;
  const registerAlice = async () => {
    const { conn, answer } = await connectAndAuth('register', 'Alice', PASSWORD);
    expectWelcome(answer, 'Alice', 'register Alice');
    await t.leave(conn.socket, 'Alice'); // logged out: the name is free to log in again
  };
  return { attempt, registerAlice };
}

function expectWelcome(answer: Answer, user: string, what: string) {
  assert.ok(
    answer.type === 'welcome' && answer.user === user,
    `${what}: got ${JSON.stringify(answer)}, expected a welcome as "${user}"`,
  );
}

function expectError(answer: Answer, code: string, what: string) {
  assert.ok(
    answer.type === 'error' && answer.code === code,
    `${what}: got ${JSON.stringify(answer)}, expected error ${code}`,
  );
}

export const exercise: Exercise = {
  title: 'Logins that ignore case (and a rate limit that does too)',
  readme: 'stage6-auth/README.md',
  checks: [
    {
      name: 'registered as "Alice", logs in as "alice", and is welcomed as "Alice"',
      hint: 'the stores already find names ignoring case (the uniqueness rule needs it); stop refusing a row whose spelling differs, and return the stored name',
      async run(ctx) {
        const { attempt, registerAlice } = await start(ctx);
        await registerAlice();
        expectWelcome(await attempt('login', 'alice'), 'Alice', 'login as alice');
      },
    },
    {
      name: 'while "Alice" is logged in, "aLiCe" elsewhere gets ALREADY_LOGGED_IN',
      hint: 'follows from the first check: the server claims the name the store returned ("Alice"), not the one typed',
      async run(ctx) {
        const { attempt } = await start(ctx);
        expectWelcome(await attempt('register', 'Alice'), 'Alice', 'register Alice (stays)');
        expectError(await attempt('login', 'aLiCe'), 'ALREADY_LOGGED_IN', 'second login');
      },
    },
    {
      name: 'failed logins count against the account whatever the case they were typed in',
      hint: 'the limiter keys on the typed name: give it one spelling per account (e.g. lower case)',
      async run(ctx) {
        const { attempt, registerAlice } = await start(ctx, 3); // 3 failures per (user, IP)
        await registerAlice();
        for (const guess of ['alice', 'ALICE', 'aLICE']) {
          expectError(await attempt('login', guess, 'wrong guess'), 'AUTH_FAILED', guess);
        }
        expectError(await attempt('login', 'AlIcE'), 'RATE_LIMITED', 'a 4th try, new spelling');
      },
    },
  ],
};
