// Stage 6: rehash on login when the cost rises. The task and the stub are in
// exercises/core/stage6/rehash.ts. The checks use real bcrypt at low costs
// (4 to 6: 16 to 64 rounds, milliseconds each) and a store that records
// every save.
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import type { CheckContext, Exercise } from '../../kit/check';

const STARTER = 'exercises/core/stage6/rehash.ts';
const PASSWORD = 'correct horse battery';

/** The stub's API (see the starter file). */
interface RehashDeps {
  findHash(username: string): Promise<string | undefined>;
  saveHash(username: string, hash: string): Promise<void>;
  cost: number;
}
interface Core {
  checkPassword(deps: RehashDeps, username: string, password: string): Promise<boolean>;
}

/** A store holding alice's hash made at `storedCost`, for a server configured with `cost`. */
async function store(storedCost: number, cost: number) {
  const users = new Map([['alice', await bcrypt.hash(PASSWORD, storedCost)]]);
  const saves: { username: string; hash: string }[] = [];
  const deps: RehashDeps = {
    async findHash(username) {
      await Promise.resolve();
      return users.get(username);
    },
    async saveHash(username, hash) {
      await Promise.resolve();
      saves.push({ username, hash });
      users.set(username, hash);
    },
    cost,
  };
  return { deps, saves, before: users.get('alice')!, users };
}

async function check(ctx: CheckContext, deps: RehashDeps, username: string, password: string) {
  const { checkPassword } = ctx.load<Core>(STARTER);
  const result = await checkPassword(deps, username, password);
  if (typeof result !== 'boolean') throw new Error(`checkPassword() returned ${String(result)}`);
  return result;
}

export const exercise: Exercise = {
  title: 'Rehash on login when the configured bcrypt cost rises',
  readme: 'stage6-auth/README.md',
  starter: STARTER,
  checks: [
    {
      name: 'the right password is true; a wrong one and an unknown user are false',
      hint: 'findHash, then bcrypt.compare(password, hash); a missing hash is false',
      async run(ctx) {
        const { deps } = await store(4, 4);
        assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, 'the right password');
        assert.equal(await check(ctx, deps, 'alice', 'wrong horse'), false, 'a wrong password');
        assert.equal(await check(ctx, deps, 'mallory', PASSWORD), false, 'an unknown user');
      },
    },
    {
      name: 'a right password on a cost-4 hash, configured cost 5: one save, a new cost-5 hash of that password',
      hint: 'after a match, compare bcrypt.getRounds(stored) with deps.cost; if lower, await deps.saveHash(username, await bcrypt.hash(password, deps.cost))',
      async run(ctx) {
        const { deps, saves, before } = await store(4, 5);
        assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, 'the login');
        assert.equal(saves.length, 1, 'saves made before checkPassword() returned');
        const saved = saves[0]!;
        assert.equal(saved.username, 'alice', 'the user saved');
        assert.equal(bcrypt.getRounds(saved.hash), 5, 'the cost of the saved hash');
        assert.notEqual(saved.hash, before, 'the saved hash');
        assert.equal(await bcrypt.compare(PASSWORD, saved.hash), true, 'the saved hash matches');
      },
    },
    {
      name: 'the new cost is the configured one, not one step up: cost 4 → 6 in one login',
      hint: 'hash at deps.cost itself',
      async run(ctx) {
        const { deps, saves } = await store(4, 6);
        assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, 'the login');
        assert.deepEqual(
          saves.map((s) => bcrypt.getRounds(s.hash)),
          [6],
          'the costs of the hashes saved',
        );
      },
    },
    {
      name: 'a wrong password saves nothing, however weak the stored hash',
      hint: 'rehash only after bcrypt.compare said true: a guess must never replace the hash',
      async run(ctx) {
        const { deps, saves } = await store(4, 6);
        assert.equal(await check(ctx, deps, 'alice', 'wrong horse'), false, 'a wrong password');
        assert.equal(await check(ctx, deps, 'mallory', PASSWORD), false, 'an unknown user');
        assert.equal(saves.length, 0, 'saves');
      },
    },
    {
      name: 'a hash at the configured cost or above is left alone (never rehashed, never lowered)',
      hint: 'save only when the stored cost is strictly lower than deps.cost',
      async run(ctx) {
        for (const [storedCost, cost] of [
          [5, 5],
          [6, 4],
        ] as const) {
          const { deps, saves } = await store(storedCost, cost);
          assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, 'the login');
          assert.equal(saves.length, 0, `saves with a cost-${storedCost} hash, cost ${cost}`);
        }
      },
    },
    {
      name: 'the next login finds the new hash and saves nothing more',
      hint: 'wait for saveHash before returning; the second login then reads a hash at deps.cost',
      async run(ctx) {
        const { deps, saves, users } = await store(4, 5);
        for (let i = 0; i < 3; i++) {
          assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, `login ${i + 1}`);
        }
        assert.equal(saves.length, 1, 'saves over three logins');
        assert.equal(bcrypt.getRounds(users.get('alice')!), 5, 'the cost stored now');
      },
    },
    {
      name: 'a save that fails does not fail the login, and its error escapes nowhere',
      hint: 'wrap the save in try/catch (awaited): a rejected promise nobody handles is a crash waiting to happen',
      async run(ctx) {
        const { deps } = await store(4, 5);
        let tried = 0;
        deps.saveHash = async () => {
          tried++;
          await Promise.resolve();
          throw new Error('UPDATE command denied to user');
        };
        assert.equal(await check(ctx, deps, 'alice', PASSWORD), true, 'the login');
        assert.equal(tried, 1, 'saves attempted');
        // A rejection left unhandled is reported by Node.js on a later turn of
        // the event loop; the runner turns it into a failed check. Give it one.
        await new Promise((resolve) => setImmediate(resolve));
      },
    },
  ],
};
