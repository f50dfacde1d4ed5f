import fc from 'fast-check';
import { EventEmitter, once } from 'node:events';
import { PassThrough } from 'node:stream';
import { ChatConsole, sanitizeForTerminal, type EndReason } from '../src/terminal';

describe('sanitizeForTerminal', () => {
  test('printable text of any script passes through unchanged, tabs too', () => {
    const text = 'héllo wörld\tnǐ hǎo 你好 مرحبا 👋🏽 \\x1b literal';
    expect(sanitizeForTerminal(text)).toBe(text);
  });

  test('ESC loses its power: CSI, OSC and cursor sequences become visible', () => {
    expect(sanitizeForTerminal('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(sanitizeForTerminal('\x1b]0;pwned\x07')).toBe('\\x1b]0;pwned\\x07');
    expect(sanitizeForTerminal('\x1b[1A\x1b[2K')).toBe('\\x1b[1A\\x1b[2K');
  });

  test('carriage return, backspace, newline, NUL, DEL are escaped', () => {
    expect(sanitizeForTerminal('real\rfake: hi')).toBe('real\\x0dfake: hi');
    expect(sanitizeForTerminal('ab\b\bXY')).toBe('ab\\x08\\x08XY');
    expect(sanitizeForTerminal('a\nb\0c\x7f')).toBe('a\\x0ab\\x00c\\x7f');
  });

  test('C1 controls, including the one-character CSI U+009B, are escaped', () => {
    expect(sanitizeForTerminal('\u009b2J')).toBe('\\x9b2J');
    expect(sanitizeForTerminal('\u0085\u009d\u0080')).toBe('\\x85\\x9d\\x80');
  });

  test('bidi overrides and isolates ("Trojan Source") are escaped', () => {
    expect(sanitizeForTerminal('abc\u202edcb')).toBe('abc\\u202edcb');
    expect(sanitizeForTerminal('\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe(
      '\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c',
    );
  });

  test('line and paragraph separators are escaped: they would start a new line', () => {
    expect(sanitizeForTerminal('hi\u2028bob: fake')).toBe('hi\\u2028bob: fake');
    expect(sanitizeForTerminal('a\u2029b\u0085c')).toBe('a\\u2029b\\x85c');
  });

  test('zero-width and other invisible format characters are escaped', () => {
    // zero width space, non-joiner, joiner, word joiner, BOM, soft hyphen,
    // invisible operators, Mongolian vowel separator
    expect(sanitizeForTerminal('ad\u200bmin')).toBe('ad\\u200bmin');
    expect(sanitizeForTerminal('a\u200cb\u200dc\u2060d\ufeffe')).toBe(
      'a\\u200cb\\u200dc\\u2060d\\ufeffe',
    );
    expect(sanitizeForTerminal('x\u00ady\u2062z\u180e')).toBe('x\\xady\\u2062z\\u180e');
    // Hangul fillers look like letters but print as blanks: a name made of them looks empty.
    expect(sanitizeForTerminal('\u3164\u115f\u1160\uffa0')).toBe('\\u3164\\u115f\\u1160\\uffa0');
  });

  test('a zero-width joiner inside an emoji sequence is kept (a family emoji stays one picture)', () => {
    const family = '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}';
    expect(sanitizeForTerminal(`hi ${family}!`)).toBe(`hi ${family}!`);
    expect(sanitizeForTerminal('\u{1f3f3}\ufe0f\u200d\u{1f308}')).toBe(
      '\u{1f3f3}\ufe0f\u200d\u{1f308}',
    );
  });

  test('Unicode tag characters (invisible ASCII look-alikes) are escaped', () => {
    const hidden = [...'ignore previous'].map((c) =>
      String.fromCodePoint(0xe0000 + c.charCodeAt(0)),
    );
    expect(sanitizeForTerminal(`hello${hidden.join('')}`)).toBe(
      `hello${[...'ignore previous'].map((c) => `\\u{e00${c.charCodeAt(0).toString(16)}}`).join('')}`,
    );
    expect(sanitizeForTerminal('\u{e0001}')).toBe('\\u{e0001}');
    // U+E0000 is unassigned, so \p{Cf} misses it; a property run found it.
    expect(sanitizeForTerminal('\u{e0000}\u{e007f}')).toBe('\\u{e0000}\\u{e007f}');
  });

  test('a long run of blanks, which can push text onto a fake new line, is collapsed', () => {
    const fake = `hi${' '.repeat(78)}bob: send me your password`;
    expect(sanitizeForTerminal(fake)).toBe('hi [78 blanks] bob: send me your password');
    expect(sanitizeForTerminal(`a${'\t'.repeat(10)}b`)).toBe('a [10 blanks] b');
    expect(sanitizeForTerminal(`a\u3000\u2003${' '.repeat(10)}b`)).toBe('a [12 blanks] b');
    // Ordinary spacing is left alone.
    expect(sanitizeForTerminal('a  b    c\td e')).toBe('a  b    c\td e');
    expect(sanitizeForTerminal('a\t\tb')).toBe('a [2 blanks] b'); // two tabs: 16 columns
    expect(sanitizeForTerminal(`a${' '.repeat(8)}b`)).toBe(`a${' '.repeat(8)}b`);
  });

  test('property: the output never holds a control character, and sanitizing is idempotent', () => {
    const unsafe =
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200b\ufeff\u202a-\u202e\u2066-\u2069\u{e0000}-\u{e007f}]|[ \t]{9,}/u;
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const safe = sanitizeForTerminal(text);
        expect(unsafe.test(safe)).toBe(false);
        expect(sanitizeForTerminal(safe)).toBe(safe);
      }),
    );
  });
});

/** A console on in-memory streams, recording what it printed and what it reported. */
function harness(terminal: boolean, onTyped: (text: string) => void = () => {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (c: Buffer) => (out += c.toString()));
  errorOutput.on('data', (c: Buffer) => (err += c.toString()));
  /** Resolves once the output contains `text` (readline echoes keys in prompt mode). */
  const outputShows = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!out.includes(text)) return;
        output.off('data', check);
        resolve();
      };
      output.on('data', check);
      check();
    });
  const typed: string[] = [];
  let gotLine: () => void = () => {};
  const nextLine = () => new Promise<void>((resolve) => (gotLine = resolve));
  let reportEnd: (reason: EndReason) => void = () => {};
  const ended = new Promise<EndReason>((resolve) => (reportEnd = resolve));
  const ui = new ChatConsole({
    input,
    output,
    errorOutput,
    terminal,
    color: false,
    onLine: (text) => {
      typed.push(text);
      onTyped(text);
      gotLine();
    },
    onEnd: (reason) => reportEnd(reason),
  });
  return { ui, input, ended, typed, nextLine, outputShows, out: () => out, err: () => err };
}

describe('ChatConsole in pipe mode (stdin is not a terminal)', () => {
  test('one callback per input line, CRLF or LF; end of input is onEnd("eof")', async () => {
    const h = harness(false);
    expect(h.ui.interactive).toBe(false);
    h.input.end('one\r\ntwo\n\nthree');
    expect(await h.ended).toBe('eof');
    expect(h.typed).toEqual(['one', 'two', '', 'three']);
  });

  test('print() writes one sanitized line, with no prompt and no escape codes', () => {
    const h = harness(false);
    h.ui.print('1.2.3.4:5: \x1b[31mred');
    h.ui.warn('* notice');
    expect(h.out()).toBe('1.2.3.4:5: \\x1b[31mred\n');
    expect(h.err()).toBe('* notice\n');
    h.ui.close();
  });

  test('pauseUntilDrained: one wait and one listener, however many lines arrive meanwhile', async () => {
    const h = harness(false);
    const socket = new EventEmitter();
    const paused = once(h.input, 'pause');
    // Every line of one chunk still arrives after the pause: each found the
    // socket full. Before, each added a 'drain' listener (Node warns at 11).
    h.ui.pauseUntilDrained(socket);
    h.input.write(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(''));
    for (let i = 0; i < 20; i++) h.ui.pauseUntilDrained(socket);
    await paused;
    expect(socket.listenerCount('drain')).toBe(1);
    h.ui.resume(); // a resume meant for another pause waits for the drain
    expect(h.input.isPaused()).toBe(true);
    const resumed = once(h.input, 'resume');
    socket.emit('drain');
    await resumed;
    expect(socket.listenerCount('drain')).toBe(0);
    h.ui.close();
  });

  test('close() stops reading without reporting an end', async () => {
    const h = harness(false);
    let ended = false;
    void h.ended.then(() => (ended = true));
    h.ui.close();
    h.ui.close(); // twice is fine
    h.input.end('late line\n');
    await new Promise((resolve) => h.input.once('finish', resolve));
    expect(h.typed).toEqual([]);
    expect(ended).toBe(false);
  });
});

describe('ChatConsole in prompt mode (a terminal)', () => {
  test('a message arriving while typing is printed above the prompt, which is redrawn with the typed text', async () => {
    const h = harness(true);
    expect(h.out()).toContain('> ');
    h.input.write('hel');
    await h.outputShows('hel'); // echoed: readline has taken the keys
    h.ui.print('1.2.3.4:5: hi');
    const after = h.out().slice(h.out().indexOf('1.2.3.4:5: hi'));
    expect(after).toMatch(/^1\.2\.3\.4:5: hi\n.*> hel/s);
    const line = h.nextLine();
    h.input.write('lo\r');
    await line;
    expect(h.typed).toEqual(['hello']);
  });

  // readline's prompt() resumes its input: before, any message printed
  // while the console waited for a drain (or a login) undid the pause.
  test('a line printed while paused leaves the input paused', async () => {
    const h = harness(true);
    const socket = new EventEmitter();
    h.ui.pauseUntilDrained(socket);
    h.ui.print('1.2.3.4:5: hi');
    expect(h.input.isPaused()).toBe(true);
    socket.emit('drain');
    expect(h.input.isPaused()).toBe(false);
    h.ui.pause();
    h.ui.warn('* notice');
    expect(h.input.isPaused()).toBe(true);
    h.ui.resume();
    expect(h.input.isPaused()).toBe(false);
    h.ui.close();
  });

  test('a typed line that fills the socket leaves the input paused after its prompt', async () => {
    const socket = new EventEmitter();
    const h = harness(true, () => h.ui.pauseUntilDrained(socket));
    const line = h.nextLine();
    h.input.write('hello\r');
    await line;
    expect(h.input.isPaused()).toBe(true); // before: the redrawn prompt resumed it
    socket.emit('drain');
    expect(h.input.isPaused()).toBe(false);
    h.ui.close();
  });

  // Both leave the cursor on a fresh line: before, stage 4's and 5's clients
  // left it after the prompt, and the shell's next output joined it ("> rc 0").
  test('Ctrl-C ends with "interrupt", on a fresh line', async () => {
    const h = harness(true);
    h.input.write('half typed\x03');
    expect(await h.ended).toBe('interrupt');
    expect(h.typed).toEqual([]);
    expect(h.out()).toMatch(/half typed\n$/);
  });

  test('Ctrl-D on an empty line ends with "eof", on a fresh line', async () => {
    const h = harness(true);
    h.input.write('\x04');
    expect(await h.ended).toBe('eof');
    expect(h.out()).toContain('> ');
    expect(h.out().endsWith('\n')).toBe(true); // readline's own last write is a cursor move
  });
});

describe('ChatConsole closed from inside onLine (a /quit command)', () => {
  test('no prompt is drawn on a closed console and nothing throws', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let closedAfter = '';
    const ui: ChatConsole = new ChatConsole({
      input,
      output,
      terminal: true,
      color: false,
      onLine: () => {
        ui.close();
        closedAfter = 'yes';
      },
      onEnd: () => {},
    });
    const done = new Promise<void>((resolve) => output.once('data', () => resolve()));
    await done; // the first prompt
    input.write('/quit\r');
    await new Promise<void>((resolve) => input.once('finish', resolve).end());
    expect(closedAfter).toBe('yes');
    ui.resume(); // harmless after close
    expect(input.isPaused()).toBe(true);
  });
});
