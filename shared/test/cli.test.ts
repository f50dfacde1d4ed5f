import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseCommandLine, parseOptions, parsePort } from '../src/cli';

describe('parseCommandLine', () => {
  test('defaults to 127.0.0.1:5050', () => {
    expect(parseCommandLine([], {}).endpoint).toEqual({ host: '127.0.0.1', port: 5050 });
  });

  test('flags win over HOST and PORT, which win over defaults', () => {
    expect(parseCommandLine([], { HOST: '::1', PORT: '7000' }).endpoint).toEqual({
      host: '::1',
      port: 7000,
    });
    expect(
      parseCommandLine(['--port', '0', '--host', 'localhost'], { PORT: '7000' }).endpoint,
    ).toEqual({
      host: 'localhost',
      port: 0,
    });
  });

  test("a program's own options are parsed too", () => {
    const { values } = parseCommandLine(['--user', 'alice'], {}, { user: { type: 'string' } });
    expect(values.user).toBe('alice');
  });

  test('unknown options and bad ports are BAD_ARGUMENT errors', () => {
    expect(() => parseCommandLine(['--nope'], {})).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
    for (const bad of ['-1', '65536', 'abc', '1.5', '']) {
      expect(() => parsePort(bad)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    }
  });

  test('a usage error is one short line that points at --help', () => {
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(messageOf(() => parseCommandLine(['--prot', '1'], {}))).toBe(
      'unknown option --prot; --help lists the options',
    );
    expect(messageOf(() => parseOptions(['--seed'], { seed: { type: 'string' } }))).toBe(
      "Option '--seed <value>' argument missing; --help lists the options",
    );
    expect(messageOf(() => parseOptions(['extra'], {}))).toMatch(
      /^Unexpected argument 'extra'.*; --help lists the options$/,
    );
    expect(parseOptions(['-h'], {}).help).toBe(true);
  });
});

describe('runMain, in a real process', () => {
  // What a program that throws `error` prints on stderr, and its exit code.
  const outcome = (error: string) => {
    const program =
      `const { runMain } = require('./shared/src/cli');` +
      `const { ChatError } = require('./shared/src/errors');` +
      `runMain(async () => { throw ${error}; });`;
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', program], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    return { status: run.status, stderr: run.stderr };
  };

  test('a usage error exits 2 and any other coded failure 1, with one line', () => {
    expect(outcome(`new ChatError('BAD_ARGUMENT', 'bad --port')`)).toEqual({
      status: 2,
      stderr: 'error: bad --port [BAD_ARGUMENT]\n',
    });
    expect(outcome(`new ChatError('CONNECT_FAILED', 'no server')`)).toEqual({
      status: 1,
      stderr: 'error: no server [CONNECT_FAILED]\n',
    });
  });

  test('a prompt the person cancelled exits 0 with its message alone', () => {
    expect(outcome(`new ChatError('CANCELLED', 'cancelled: nothing was sent')`)).toEqual({
      status: 0,
      stderr: 'cancelled: nothing was sent\n',
    });
  });
});
