// Attack (issue 10, item 2): a registration flood starving logins. Every
// registration costs a full bcrypt hash, and only failed attempts used to
// touch the limiter, so one address registering junk accounts non-stop could
// fill the hashing queue and every real login got SERVICE_UNAVAILABLE.
//
// The flood comes from 127.0.0.2 (Linux routes all of 127/8 to loopback), the
// real user logs in again and again from 127.0.0.1, and every one of her
// logins must succeed. The hashing is made slow enough to matter (cost 10, one
// worker) so the flood really competes for the worker. Two floods: against
// the shipped limits (registrations per address run out), and against a
// server whose registration limits are lifted, where what protects the logins
// is the hashing queue itself (a cap per address, and logins served first).
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { ServerOptions } from '../src/server';
import { logIn, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const FLOODER = '127.0.0.2';
const FLOOD_CONNECTIONS = 40;
const LOGINS = 6;

/** Floods registrations until `stop` resolves; resolves with the answers' codes, counted. */
async function flood(t: TestServer, stop: Promise<void>, firstRefused: () => void) {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const codes = new Map<string, number>();
  const loop = async () => {
    while (!stopped) {
      const conn = await rawConnect(t.port, FLOODER).catch(() => undefined);
      if (conn === undefined) continue;
      const name = `junk${randomBytes(6).toString('hex')}`;
      const answer = await rawAuth(conn, t.key, 'register', name, 'junk-password').catch(
        () => undefined,
      );
      const code = answer === undefined ? 'closed' : answer.type === 'error' ? answer.code : 'ok';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (code !== 'ok') firstRefused();
      conn.socket.destroy();
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, loop));
  return codes;
}

async function scenario(options: Partial<ServerOptions>) {
  const t = await startTestServer({ bcryptCost: 10, hashWorkers: 1, ...options });
  try {
    await t.store.createUser('alice', bcrypt.hashSync('alice-password', 10));
    let release!: () => void;
    const stop = new Promise<void>((resolve) => (release = resolve));
    let onRefused!: () => void;
    const refused = new Promise<void>((resolve) => (onRefused = resolve));
    const flooding = flood(t, stop, () => onRefused());
    // The flood is at full strength once the server has started refusing it.
    await refused;
    const outcomes: string[] = [];
    for (let i = 0; i < LOGINS; i++) {
      const outcome = await logIn(t, 'alice', 'alice-password').then(
        async (s) => {
          await t.leave(s.socket, 'alice');
          // Served at the first try: not told to wait and come back.
          return s.attempts === 1 ? 'welcome' : `welcome after ${s.attempts} attempts`;
        },
        (err: { code?: string }) => err.code ?? String(err),
      );
      outcomes.push(outcome);
    }
    release();
    const codes = await flooding;
    return { outcomes, codes };
  } finally {
    await t.close();
  }
}

test('registration flood with the shipped limits: every real login succeeds', async () => {
  const { outcomes, codes } = await scenario({});
  expect(outcomes).toEqual(Array(LOGINS).fill('welcome'));
  // The flood got at most its per-address allowance of accounts (10 an hour).
  expect(codes.get('ok') ?? 0).toBeLessThanOrEqual(10);
}, 60_000);

test('registration flood with registrations unlimited: the hashing queue still serves every login', async () => {
  const lifted = { capacity: 1_000_000, refillMs: 1 };
  const { outcomes, codes } = await scenario({
    rateLimits: { registrationsPerIp: lifted, registrations: lifted },
  });
  expect(outcomes).toEqual(Array(LOGINS).fill('welcome'));
  // The flood did hash (it was not simply rate-limited away)...
  expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
  // ...and the rest was turned away as busy, not queued ahead of the logins.
  expect(codes.get('SERVICE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
}, 60_000);
