import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { LineReader } from '../../shared/test/helpers';
import { OperatorConsole } from '../src/operator';

const context = (signal = new AbortController().signal) => ({ from: '127.0.0.1:1', signal });

function operator(interactive: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  const console = new OperatorConsole({ input, output, interactive });
  return { input, console, screen: new LineReader(output) };
}

describe('the operator console', () => {
  test('script mode: each input line is the next reply; then null; then ended', async () => {
    const op = operator(false);
    op.input.write('first\n\nsecond\n'); // the empty line is skipped
    await expect(op.console.reply('a', context())).resolves.toBe('first');
    const pending = op.console.reply('b', context()); // may be asked before 'second' is read
    await expect(pending).resolves.toBe('second');
    op.input.end();
    await expect(op.console.ended).resolves.toBe('eof');
    await expect(op.console.reply('c', context())).resolves.toBeNull();
  });

  test('replies still queued when input ends are used, then null', async () => {
    const op = operator(false);
    const inputDone = once(op.input, 'end');
    op.input.end('last words\nreally last\n');
    await inputDone; // readline has read (and queued) both lines
    await expect(op.console.reply('a', context())).resolves.toBe('last words');
    await expect(op.console.reply('b', context())).resolves.toBe('really last');
    await expect(op.console.reply('c', context())).resolves.toBeNull();
  });

  test('a pending reply is given up when its client leaves', async () => {
    const op = operator(false);
    const leaving = new AbortController();
    const pending = op.console.reply('a', context(leaving.signal));
    leaving.abort('left');
    await expect(pending).resolves.toBeNull();
    expect(await op.screen.next()).toBe('(127.0.0.1:1 left; no reply needed)');
    op.input.write('for the next client\n');
    await expect(op.console.reply('b', context())).resolves.toBe('for the next client');
  });

  test('events are printed with untrusted text escaped', async () => {
    const op = operator(false);
    op.console.show({ type: 'line', peer: '127.0.0.1:1', text: 'evil \x1b]0;pwned\x07' });
    expect(await op.screen.next()).toBe('127.0.0.1:1: evil \\x1b]0;pwned\\x07');
    op.console.show({ type: 'connected', peer: '127.0.0.1:2', ahead: 1 });
    expect(await op.screen.next()).toBe('127.0.0.1:2 connected; waiting in line (1 ahead)');
  });

  test('prompt mode: a line typed when nobody waits for a reply is not kept', async () => {
    const op = operator(true);
    op.input.write('too early\n');
    await op.screen.waitFor(/nobody is waiting/);
    const pending = op.console.reply('a', context());
    op.input.write('now\n');
    await expect(pending).resolves.toBe('now');
    op.console.close();
  });
});
