import { connectionLogger, createLogger, REDACT_PATHS } from '../src/logger';

function memoryLog() {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (line: string) => void lines.push(line) },
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes one JSON object per event, with the connection id on every child line', () => {
    const mem = memoryLog();
    const log = connectionLogger(
      createLogger({ destination: mem.destination }),
      7,
      '127.0.0.1:5000',
    );
    log.info({ event: 'login_ok', user: 'alice' }, 'login ok');
    log.warn({ event: 'login_failed', code: 'AUTH_FAILED' }, 'login failed');
    const records = mem.records();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ conn: 7, remote: '127.0.0.1:5000', event: 'login_ok' });
    expect(records[1]).toMatchObject({ conn: 7, code: 'AUTH_FAILED', level: 40 });
  });

  it('redacts secret-looking fields at the top level and one level down', () => {
    const mem = memoryLog();
    const log = createLogger({ destination: mem.destination });
    const secret = 'correct horse battery staple';
    log.info({ password: secret, user: { name: 'bob', password: secret }, box: secret }, 'oops');
    log.info({ credentials: { username: 'bob', password: secret }, key: secret, text: secret });
    const all = mem.lines.join('');
    expect(all).not.toContain(secret);
    expect(mem.records()[0]).toMatchObject({
      password: '[redacted]',
      user: { name: 'bob', password: '[redacted]' },
    });
    expect(REDACT_PATHS).toEqual(expect.arrayContaining(['password', '*.password']));
  });

  it('respects the level', () => {
    const mem = memoryLog();
    const log = createLogger({ destination: mem.destination, level: 'warn' });
    log.info('not written');
    log.error('written');
    expect(mem.records().map((r) => r.msg)).toEqual(['written']);
  });
});
