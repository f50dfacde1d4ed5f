import { ChatError } from '../../shared/src/errors';
import { errorLine, parseCommand } from '../src/commands';

test('parses ping and hash, keeping spaces inside the password', () => {
  expect(parseCommand('ping')).toEqual({ kind: 'ping' });
  expect(parseCommand('ping  ')).toEqual({ kind: 'ping' });
  expect(parseCommand('hash  two  spaces ')).toEqual({ kind: 'hash', password: ' two  spaces ' });
});

test('ignores blank lines', () => {
  expect(parseCommand('')).toBeNull();
  expect(parseCommand('   ')).toBeNull();
});

test('refuses unknown commands, a missing password and one bcrypt would truncate', () => {
  expect(parseCommand('PING')).toMatchObject({ code: 'BAD_FRAME' });
  expect(parseCommand('hash')).toMatchObject({ code: 'BAD_FRAME' });
  expect(parseCommand('hash ')).toMatchObject({ code: 'BAD_FRAME' });
  expect(parseCommand(`hash ${'a'.repeat(72)}`)).toEqual({
    kind: 'hash',
    password: 'a'.repeat(72),
  });
  expect(parseCommand(`hash ${'a'.repeat(73)}`)).toMatchObject({ code: 'BAD_PASSWORD' });
  // 36 two-byte characters are 72 bytes; 37 are too many even though it is only 37 characters.
  expect(parseCommand(`hash ${'é'.repeat(37)}`)).toMatchObject({ code: 'BAD_PASSWORD' });
});

test('formats errors as "! CODE: message"', () => {
  expect(errorLine(new ChatError('BAD_FRAME', 'nope'))).toBe('! BAD_FRAME: nope');
});
