// The client pointed at something that is not a stage 6 server: a port that
// accepts and says nothing (a stage 7 server waits for a TLS hello of its
// own; so does any other TLS or request-first service), or one that closes at
// once. Before, the first hung until the person gave up, and a stage 7 server
// dropped it after 10 s with "closed the connection during login", both
// after the password had been typed. Now the client says what it did not
// get, and never asks for a password.
import { generateKey } from '../../shared/src/crypto';
import { startFakeServer } from '../../testkit/fake-server';
import { connectAndLogIn } from '../src/client-login';

function logInTo(port: number) {
  let asked = 0;
  const result = connectAndLogIn({
    host: '127.0.0.1',
    port,
    key: generateKey(),
    username: 'alice',
    password: () => {
      asked++;
      return Promise.resolve('alice-password');
    },
    helloTimeoutMs: 200,
  });
  return { result, asked: () => asked };
}

test('a port that accepts and says nothing: CONNECT_FAILED after the hello timeout, no password asked', async () => {
  const silent = await startFakeServer(() => {});
  try {
    const attempt = logInTo(silent.port);
    await expect(attempt.result).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: `no hello from 127.0.0.1:${silent.port} within 0.2 s: is a stage 6 server listening there?`,
    });
    expect(attempt.asked()).toBe(0);
  } finally {
    await silent.close();
  }
});

test('a port that closes at once: CONNECT_FAILED, "before saying hello"', async () => {
  const rude = await startFakeServer((socket) => socket.end());
  try {
    const attempt = logInTo(rude.port);
    await expect(attempt.result).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: 'the server closed the connection before saying hello',
    });
    expect(attempt.asked()).toBe(0);
  } finally {
    await rude.close();
  }
});
