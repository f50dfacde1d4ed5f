import fc from 'fast-check';
import { formatServerLine, parseServerLine, peerName, type ServerLine } from '../src/messages';

describe('stage 2 message vocabulary', () => {
  test('each kind of server line has its own shape', () => {
    expect(formatServerLine({ kind: 'reply', from: '127.0.0.1:5050', text: 'hi' })).toBe(
      '127.0.0.1:5050: hi',
    );
    expect(formatServerLine({ kind: 'notice', text: 'welcome' })).toBe('* welcome');
    expect(formatServerLine({ kind: 'error', code: 'BAD_UTF8', message: 'no' })).toBe(
      '! BAD_UTF8: no',
    );
  });

  test('a reply whose text looks like a notice or an error is still a reply', () => {
    expect(parseServerLine('[::1]:5050: * not a notice')).toEqual({
      kind: 'reply',
      from: '[::1]:5050',
      text: '* not a notice',
    });
    expect(parseServerLine('127.0.0.1:5050: ! FAKE: x')).toMatchObject({ kind: 'reply' });
  });

  test('lines that fit no shape, or name an unknown error code, parse as null', () => {
    expect(parseServerLine('no colon here')).toBeNull();
    expect(parseServerLine(': starts with colon')).toBeNull();
    expect(parseServerLine('! NOT_A_CODE: hmm')).toBeNull();
  });

  test('format then parse gives back the same line (property)', () => {
    const sender = fc.oneof(
      fc.ipV4().map((ip) => `${ip}:5050`),
      fc.ipV6().map((ip) => `[${ip}]:5050`),
    );
    const line: fc.Arbitrary<ServerLine> = fc.oneof(
      fc.record({ kind: fc.constant('reply' as const), from: sender, text: fc.string() }),
      fc.record({ kind: fc.constant('notice' as const), text: fc.string() }),
      fc.record({
        kind: fc.constant('error' as const),
        code: fc.constantFrom('FRAME_TOO_LARGE' as const, 'BAD_UTF8' as const),
        message: fc.string(),
      }),
    );
    fc.assert(fc.property(line, (l) => expect(parseServerLine(formatServerLine(l))).toEqual(l)));
  });

  test('peerName unmaps IPv4-mapped addresses and brackets IPv6', () => {
    expect(peerName('::ffff:127.0.0.1', 54012)).toBe('127.0.0.1:54012');
    expect(peerName('127.0.0.1', 5050)).toBe('127.0.0.1:5050');
    expect(peerName('::1', 5050)).toBe('[::1]:5050');
    expect(peerName('::ffff:1:2', 1)).toBe('[::ffff:1:2]:1');
  });
});
