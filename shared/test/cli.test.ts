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
