// Stage 6, write the core: the order of a login. The task and the stub are in
// exercises/core/stage6/login.ts. The checks give the learner's login() real
// bcrypt (bcryptjs at cost 4, its floor, so a compare takes about a
// millisecond) and a token bucket, and count what reaches each of them.
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import type { CheckContext, Exercise } from '../../kit/check';

const STARTER = 'exercises/core/stage6/login.ts';
const COST = 4;

/** The stub's API (see the starter file). */
interface Limiter {
  take(key: string): boolean;
  giveBack(key: string): void;
}
interface LoginDeps {
  findHash(username: string): Promise<string | undefined>;
  verify(password: string, hash: string): Promise<boolean>;
  dummyHash: string;
  limiter: Limiter;
}
interface Core {
  login(deps: LoginDeps, username: string, password: string): Promise<void>;
}

const ALICE = 'correct horse battery';
// Made once: a check needs a few hashes, and each costs a little CPU.
let hashes: Promise<{ alice: string; dummy: string; long: string }> | undefined;
function knownHashes() {
  hashes ??= (async () => ({
    alice: await bcrypt.hash(ALICE, COST),
    dummy: await bcrypt.hash(DUMMY_PASSWORD, COST),
    long: await bcrypt.hash('é'.repeat(36), COST),
  }))();
  return hashes;
}
// The dummy hash's password, which the checks know and a server would not.
const DUMMY_PASSWORD = 'the dummy password';

/** A world for login(): users, real bcrypt and a token bucket, each counting its calls. */
async function world(burst = 5) {
  const { alice, dummy, long } = await knownHashes();
  const users = new Map([
    ['alice', alice],
    ['emile', long], // 'é' × 36: exactly 72 bytes
  ]);
  const seen = { lookups: 0, compares: [] as string[], taken: 0, refused: 0, givenBack: 0 };
  const tokens = new Map<string, number>();
  const deps: LoginDeps = {
    async findHash(username) {
      seen.lookups++;
      await Promise.resolve(); // a real store answers later, never at once
      return users.get(username);
    },
    async verify(password, hash) {
      seen.compares.push(hash);
      return bcrypt.compare(password, hash);
    },
    dummyHash: dummy,
    limiter: {
      take(key) {
        const left = tokens.get(key) ?? burst;
        if (left < 1) {
          seen.refused++;
          return false;
        }
        tokens.set(key, left - 1);
        seen.taken++;
        return true;
      },
      giveBack(key) {
        seen.givenBack++;
        tokens.set(key, Math.min(burst, (tokens.get(key) ?? burst) + 1));
      },
    },
  };
  return { deps, seen, dummy, alice };
}

/** What one login came to: `ok`, or the ChatError's code and message. */
async function outcome(
  ctx: CheckContext,
  deps: LoginDeps,
  username: string,
  password: string,
): Promise<{ code: string; message: string }> {
  const { login } = ctx.load<Core>(STARTER);
  try {
    const result: unknown = await login(deps, username, password);
    if (result !== undefined) throw new Error(`login() resolved with ${String(result)}`);
    return { code: 'ok', message: '' };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') {
      throw new Error(`login(${username}) threw ${String(err)}, not a ChatError with a code`);
    }
    return { code, message: (err as Error).message };
  }
}

export const exercise: Exercise = {
  title: 'Write the core: the login order (rate limit before bcrypt, a dummy hash)',
  readme: 'stage6-auth/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'the right password logs in; a wrong one gets AUTH_FAILED',
      hint: 'look the hash up with deps.findHash, compare with deps.verify, and throw new ChatError("AUTH_FAILED", ...) when it says no',
      async run(ctx) {
        const { deps } = await world();
        assert.equal((await outcome(ctx, deps, 'alice', ALICE)).code, 'ok', 'the right password');
        assert.equal(
          (await outcome(ctx, deps, 'alice', 'wrong horse')).code,
          'AUTH_FAILED',
          'a wrong password',
        );
      },
    },
    {
      name: 'an unknown user gets the same AUTH_FAILED, message and all, after one bcrypt compare',
      hint: 'no early return for a missing hash: compare against deps.dummyHash, then answer exactly as for a wrong password',
      async run(ctx) {
        const wrong = await world();
        const refused = await outcome(ctx, wrong.deps, 'alice', 'wrong horse');
        const unknown = await world();
        const nobody = await outcome(ctx, unknown.deps, 'mallory', 'wrong horse');
        assert.deepEqual(nobody, refused, 'unknown user, compared with a wrong password');
        assert.deepEqual(
          unknown.seen.compares,
          [unknown.dummy],
          'the hashes bcrypt compared for an unknown user',
        );
        assert.deepEqual(wrong.seen.compares, [wrong.alice], 'and for a wrong password');
      },
    },
    {
      name: 'the dummy hash lets nobody in, not even with its own password',
      hint: 'a match against the dummy hash is still a no: decide "unknown user" from the look-up, not from the compare',
      async run(ctx) {
        const { deps } = await world();
        assert.equal((await outcome(ctx, deps, 'mallory', DUMMY_PASSWORD)).code, 'AUTH_FAILED');
      },
    },
    {
      name: 'a password of 72 bytes works; 73 or 74 bytes get BAD_PASSWORD and no bcrypt, never a cut',
      hint: 'measure Buffer.byteLength(password, "utf8"), not password.length (é is 2 bytes), and refuse before any other work',
      async run(ctx) {
        const { deps, seen } = await world();
        const seventyTwo = 'é'.repeat(36);
        assert.equal((await outcome(ctx, deps, 'emile', seventyTwo)).code, 'ok', '72 bytes');
        seen.compares.length = 0;
        // bcrypt would read only the first 72 bytes of these, which match.
        for (const [what, longer] of [
          ['73 bytes', `${seventyTwo}x`],
          ['74 bytes in 37 characters', 'é'.repeat(37)],
        ]) {
          const got = await outcome(ctx, deps, 'emile', longer!);
          assert.equal(got.code, 'BAD_PASSWORD', `${what} (the first 72 are the password)`);
        }
        assert.equal(seen.compares.length, 0, 'bcrypt compares for the refused passwords');
      },
    },
    {
      name: 'twenty wrong guesses at once: only the burst (3) reach the store and bcrypt, the others get RATE_LIMITED',
      hint: 'take the token first, synchronously, before the first await; counting a failure after the compare lets every concurrent guess through',
      async run(ctx) {
        const { deps, seen } = await world(3);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => outcome(ctx, deps, 'alice', `guess ${i}`)),
        );
        const codes = results.map((r) => r.code).sort();
        assert.equal(seen.compares.length, 3, 'guesses that reached bcrypt');
        assert.equal(seen.lookups, 3, 'guesses that reached the store');
        assert.deepEqual(
          codes,
          [...Array<string>(3).fill('AUTH_FAILED'), ...Array<string>(17).fill('RATE_LIMITED')],
          'the answers',
        );
        assert.equal(seen.givenBack, 0, 'tokens given back for wrong guesses');
      },
    },
    {
      name: 'a right password gives its one token back: with a burst of 2, ten logins in a row all work',
      hint: 'call deps.limiter.giveBack(username) once after a successful compare, never after a failed one',
      async run(ctx) {
        const { deps, seen } = await world(2);
        for (let i = 0; i < 10; i++) {
          assert.equal((await outcome(ctx, deps, 'alice', ALICE)).code, 'ok', `login ${i + 1}`);
        }
        assert.equal(seen.givenBack, 10, 'tokens given back by ten successes');
        // Two failures spend the burst, and a success cannot refund them.
        assert.equal((await outcome(ctx, deps, 'alice', 'wrong')).code, 'AUTH_FAILED');
        assert.equal((await outcome(ctx, deps, 'alice', 'wrong')).code, 'AUTH_FAILED');
        assert.equal(
          (await outcome(ctx, deps, 'alice', ALICE)).code,
          'RATE_LIMITED',
          'the right password after two failures spent the burst',
        );
        assert.equal(seen.givenBack, 10, 'tokens given back in all');
      },
    },
    {
      name: 'a store or bcrypt that fails gives the token back, and its error comes through unchanged',
      hint: 'if findHash or verify throws, no password was tested: call giveBack, then rethrow the same error (not AUTH_FAILED)',
      async run(ctx) {
        const { login } = ctx.load<Core>(STARTER);
        for (const broken of ['findHash', 'verify'] as const) {
          const { deps, seen } = await world(1);
          const down = Object.assign(new Error('the database is down'), { code: 'DB_DOWN' });
          if (broken === 'findHash') deps.findHash = () => Promise.reject(down);
          else deps.verify = () => Promise.reject(down);
          await assert.rejects(
            login(deps, 'alice', ALICE),
            (err) => err === down,
            `${broken} failing: login() must reject with its error`,
          );
          assert.equal(seen.givenBack, 1, `tokens given back when ${broken} failed`);
        }
      },
    },
  ],
};
