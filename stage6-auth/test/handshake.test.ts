// authenticate() on its own, without a connection: it answers with what it
// found and changes nothing outside itself. Claiming the name, and deciding
// that nobody is waiting any more, are the connection's (see sessions and
// late-answers tests).
import { generateKey, sealText } from '../../shared/src/crypto';
import { LogSampler } from '../../shared/src/log-sampler';
import { silentLogger } from '../../shared/src/logger';
import { PasswordHasher } from '../../shared/src/passwords';
import { LoginRateLimiter } from '../../shared/src/rate-limit';
import { openUserStore, type UserStore } from '../../shared/src/user-store';
import { authenticate, type AuthServices } from '../src/handshake';
import { credentialsAssociatedData, formatCredentials, type AuthFrame } from '../src/messages';

const CHALLENGE = 'ABEiM0RVZneImaq7zN3u/w==';
let services: AuthServices;
let store: UserStore;

beforeAll(async () => {
  store = await openUserStore({ sqlitePath: ':memory:' });
  services = {
    key: generateKey(),
    store,
    hasher: await PasswordHasher.start({ cost: 4, workers: 1 }),
    limiter: new LoginRateLimiter(),
    sampler: new LogSampler(silentLogger()),
  };
});
afterAll(async () => {
  services.sampler.close();
  await services.hasher.close();
  await store.close();
});

function attempt(
  type: AuthFrame['type'],
  username: string,
  password: string,
  challenge = CHALLENGE,
) {
  const plaintext = formatCredentials(username, password, challenge);
  const box = sealText(services.key, plaintext, credentialsAssociatedData(type));
  return authenticate(services, {
    frame: { type, box },
    challenge: CHALLENGE,
    ip: '127.0.0.1',
    budgetMs: 30_000,
    signal: new AbortController().signal,
    log: silentLogger(),
  });
}

test('the verified user, or a coded refusal; a verified user may log in twice (the claim is not here)', async () => {
  expect(await attempt('register', 'alice', 'correct horse battery')).toEqual({
    status: 'verified',
    user: 'alice',
  });
  const first = await attempt('login', 'alice', 'correct horse battery');
  expect(first).toEqual({ status: 'verified', user: 'alice' });
  // Nothing was claimed: the same user is verified again. Whether that user
  // is already online is the connection's question (ALREADY_LOGGED_IN).
  expect(await attempt('login', 'alice', 'correct horse battery')).toEqual(first);

  expect(await attempt('login', 'alice', 'wrong password!!')).toMatchObject({
    status: 'refused',
    error: { code: 'AUTH_FAILED' },
    user: 'alice',
  });
  expect(await attempt('register', 'Alice', 'another password')).toMatchObject({
    status: 'refused',
    error: { code: 'NAME_TAKEN' },
  });
  // Sealed for another connection: refused before the username is even read.
  const replayed = await attempt(
    'login',
    'alice',
    'correct horse battery',
    'AAAAAAAAAAAAAAAAAAAAAA==',
  );
  expect(replayed).toMatchObject({ status: 'refused', error: { code: 'AUTH_FAILED' } });
  expect(replayed).not.toHaveProperty('user', 'alice');
});
