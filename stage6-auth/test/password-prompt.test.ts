// The hidden password prompt, driven through a stand-in terminal: a stream
// that records raw-mode switches. Nothing typed may be echoed.
import { PassThrough } from 'node:stream';
import { promptHidden, type RawModeInput } from '../src/password-prompt';

function fakeTerminal() {
  const input = new PassThrough() as PassThrough & RawModeInput;
  const modes: boolean[] = [];
  input.setRawMode = (mode: boolean) => modes.push(mode);
  const output = new PassThrough();
  const shown: string[] = [];
  output.on('data', (c: Buffer) => shown.push(c.toString()));
  return { input, output, modes, shown: () => shown.join('') };
}

test('reads up to Enter in raw mode, echoes nothing, and restores the terminal', async () => {
  const term = fakeTerminal();
  const password = promptHidden('password: ', term.input, term.output);
  term.input.write('s3cr');
  term.input.write('et!\r');
  await expect(password).resolves.toBe('s3cret!');
  expect(term.modes).toEqual([true, false]);
  expect(term.shown()).toBe('password: \n');
});

test('Backspace removes the last character (a whole emoji); arrow keys are ignored', async () => {
  const term = fakeTerminal();
  const password = promptHidden('pw: ', term.input, term.output);
  term.input.write('ab🔑\u007f');
  term.input.write('\u001b[D'); // left arrow
  term.input.write('c\n');
  await expect(password).resolves.toBe('abc');
});

test('Ctrl-C cancels with BAD_ARGUMENT and still restores the terminal', async () => {
  const term = fakeTerminal();
  const password = promptHidden('pw: ', term.input, term.output);
  term.input.write('abc\u0003');
  await expect(password).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  expect(term.modes).toEqual([true, false]);
});
