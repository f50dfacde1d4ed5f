import { ServerLog } from '../server-log';

test('pino: error and fatal entries and non-JSON lines are failures; warnings are not', () => {
  const log = new ServerLog('pino');
  log.accept('stderr', JSON.stringify({ level: 30, event: 'connect' }));
  log.accept('stderr', JSON.stringify({ level: 40, event: 'login_failed', code: 'AUTH_FAILED' }));
  log.accept('stdout', 'listening on 127.0.0.1:5050');
  expect(log.failureCount).toBe(0);
  log.accept('stderr', JSON.stringify({ level: 50, msg: 'unexpected error during login' }));
  log.accept('stderr', JSON.stringify({ level: 60, msg: 'fatal' }));
  log.accept('stderr', 'TypeError: x is not a function');
  log.accept('stderr', '    at Socket.<anonymous> (connection.ts:12:3)');
  expect(log.failureCount).toBe(4);
});

test('pino: slow consumers are collected and awaited', async () => {
  const log = new ServerLog('pino');
  const reported = log.slowConsumerReported('stuck');
  log.accept('stderr', JSON.stringify({ level: 40, event: 'slow_consumer', user: 'other' }));
  log.accept('stderr', JSON.stringify({ level: 40, event: 'slow_consumer', user: 'stuck' }));
  await reported;
  expect(log.slowConsumers).toEqual(['other', 'stuck']);
});

test('plain: stderr and "server error" lines are failures; slow consumers are parsed', () => {
  const log = new ServerLog('plain');
  log.accept('stdout', '127.0.0.1:5000 joined (1 online)');
  log.accept('stdout', '127.0.0.1:5000 disconnected: SLOW_CONSUMER');
  expect(log.failureCount).toBe(0);
  expect(log.slowConsumers).toEqual(['127.0.0.1:5000']);
  log.accept('stdout', 'server error: EMFILE');
  log.accept('stderr', 'Error: boom');
  expect(log.failureCount).toBe(2);
});
