// The terminal prompts, with a stand-in terminal: a stream with setRawMode.
import { PassThrough } from 'node:stream';
import { promptLine, promptYesNo, isRawModeInput, type RawModeInput } from '../src/terminal-prompt';

function fakeTerminal(): RawModeInput & PassThrough & { modes: boolean[] } {
  const input = new PassThrough() as PassThrough & { modes: boolean[]; isTTY: boolean };
  input.modes = [];
  input.isTTY = true;
  return Object.assign(input, {
    setRawMode: (mode: boolean) => input.modes.push(mode),
  });
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

test('a hidden line echoes nothing, edits with Backspace, and leaves raw mode', async () => {
  const input = fakeTerminal();
  const out = capture();
  const answer = promptLine('password: ', input, out.stream, false);
  input.write('secrex\u007ft\r');
  await expect(answer).resolves.toBe('secret');
  expect(out.text()).toBe('password: \n');
  expect(input.modes).toEqual([true, false]);
});

test('a line may arrive in pieces; Backspace removes a whole emoji; arrow keys are ignored', async () => {
  const input = fakeTerminal();
  const answer = promptLine('pw: ', input, capture().stream, false);
  input.write('ab🔑\u007f');
  input.write('\u001b[D'); // left arrow
  input.write('c\n');
  await expect(answer).resolves.toBe('abc');
});

test('a yes/no question echoes, and only y or yes is yes', async () => {
  for (const [typed, expected] of [
    ['y\r', true],
    ['YES\r', true],
    ['\r', false],
    ['no\r', false],
    ['yep\r', false],
  ] as const) {
    const input = fakeTerminal();
    const out = capture();
    const answer = promptYesNo('trust? [y/N] ', input, out.stream);
    input.write(typed);
    await expect(answer).resolves.toBe(expected);
    expect(out.text()).toBe(`trust? [y/N] ${typed.slice(0, -1)}\n`);
  }
});

test('Ctrl-C cancels with CANCELLED and still leaves raw mode', async () => {
  const input = fakeTerminal();
  const answer = promptLine('password: ', input, capture().stream, false);
  input.write('abc\u0003');
  await expect(answer).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(input.modes).toEqual([true, false]);
});

test('only a TTY with setRawMode counts as a terminal', () => {
  expect(isRawModeInput(fakeTerminal())).toBe(true);
  expect(isRawModeInput(new PassThrough())).toBe(false);
});
