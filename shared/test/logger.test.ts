import { chooseLogFormat, formatLogLine, prettyDestination } from '../src/log-format';
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

describe('log format', () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({ level: 30, time: new Date(2026, 0, 2, 3, 4, 5, 6).getTime(), ...fields });

  it('is pretty on a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat('', false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
    expect(() => chooseLogFormat('yaml', true)).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
  });

  it('prints time, level and message, then the other fields as name=value', () => {
    const text = formatLogLine(
      line({
        level: 40,
        conn: 3,
        remote: '127.0.0.1:50312',
        event: 'login_failed',
        user: 'alice',
        code: 'AUTH_FAILED',
        msg: 'login failed: AUTH_FAILED',
      }),
      false,
    );
    expect(text).toBe(
      '03:04:05.006 WARN  login failed: AUTH_FAILED  conn=3 remote=127.0.0.1:50312 user=alice code=AUTH_FAILED',
    );
    expect(formatLogLine(line({ msg: 'listening', port: 5050 }), true)).toBe(
      '03:04:05.006 \x1b[32mINFO \x1b[39m listening  port=5050',
    );
  });

  it('never lets a value from the network drive the terminal, and never drops a line', () => {
    const text = formatLogLine(line({ msg: 'bad frame', user: 'x\x1b[2J\r\u202e' }), false);
    expect(text).toBe('03:04:05.006 INFO  bad frame  user=x\\x1b[2J\\x0d\\u202e');
    expect(formatLogLine('not json \x07', false)).toBe('not json \\x07');
  });

  it('a pretty logger writes the same events, redacted, one readable line each', () => {
    const written: string[] = [];
    const log = createLogger({
      destination: prettyDestination((t) => written.push(t), false),
    });
    connectionLogger(log, 9, '[::1]:4000').info(
      { event: 'register_ok', user: 'bob', password: 'hunter2hunter2' },
      'register ok',
    );
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}register ok {2}conn=9 remote=\[::1\]:4000 user=bob password=\[redacted\]\n$/,
    );
  });
});
