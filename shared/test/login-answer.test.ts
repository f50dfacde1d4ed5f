// The client's deadline for the answer to a login: silence past it is
// LOGIN_TIMEOUT with the server's address; anything else that ends the wait
// (a refusal, a closed connection) is passed on as it is, not reported as
// silence. Fake timers: no test waits 45 s.
import { ChatError } from '../src/errors';
import { LOGIN_ANSWER_TIMEOUT_MS, loginAnswer } from '../src/login-answer';

afterEach(() => {
  jest.useRealTimers();
});

test('no answer within the deadline: LOGIN_TIMEOUT, naming the server and the wait', async () => {
  jest.useFakeTimers();
  const waiting = loginAnswer(new Promise<never>(() => {}), '127.0.0.1:5050');
  const settled = expect(waiting).rejects.toMatchObject({
    code: 'LOGIN_TIMEOUT',
    message: 'no answer to the login from 127.0.0.1:5050 within 45 s',
  });
  jest.advanceTimersByTime(LOGIN_ANSWER_TIMEOUT_MS);
  await settled;
});

test('an answer in time is returned as it is', async () => {
  await expect(loginAnswer(Promise.resolve('welcome'), '127.0.0.1:5050', 1000)).resolves.toBe(
    'welcome',
  );
});

test('any other failure is passed on unchanged, never reported as silence', async () => {
  const closed = new Error('the server closed the connection during login');
  await expect(loginAnswer(Promise.reject(closed), 'h:1', 1000)).rejects.toBe(closed);
  const refused = new ChatError('AUTH_FAILED', 'wrong username or password');
  await expect(loginAnswer(Promise.reject(refused), 'h:1', 1000)).rejects.toBe(refused);
});
