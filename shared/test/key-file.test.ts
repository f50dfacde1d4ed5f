import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../src/crypto';
import {
  DEFAULT_KEY_FILE,
  formatKey,
  loadKeyFile,
  loadOrCreateKeyFile,
  parseKey,
  resolveKeyFile,
  saveKeyFile,
} from '../src/key-file';
import { REPO_ROOT } from './helpers';

const code = (c: string) => expect.objectContaining({ code: c });
const unixModes = process.platform !== 'win32';
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-file-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('key file', () => {
  test('save then load gives the same key; the file is one base64 line, mode 0600', () => {
    const file = path.join(dir, 'nested', 'chat.key');
    const key = generateKey();
    saveKeyFile(file, key);
    const warnings: string[] = [];
    expect(loadKeyFile(file, { warn: (m) => warnings.push(m) }).equals(key)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    if (unixModes) {
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(path.dirname(file))).toBe(0o700);
    }
    expect(warnings).toEqual([]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['chat.key']); // no temp file left
  });

  test('an existing file is not overwritten without force (KEY_EXISTS), and is with it', () => {
    const file = path.join(dir, 'chat.key');
    const first = generateKey();
    saveKeyFile(file, first);
    expect(() => saveKeyFile(file, generateKey())).toThrow(code('KEY_EXISTS'));
    expect(loadKeyFile(file).equals(first)).toBe(true);

    fs.chmodSync(file, 0o644); // --force must not inherit the old file's loose mode
    const second = generateKey();
    saveKeyFile(file, second, { force: true });
    expect(loadKeyFile(file).equals(second)).toBe(true);
    if (unixModes) expect(modeOf(file)).toBe(0o600);
  });

  test('a missing file is KEY_MISSING and the message says to run npm run keygen', () => {
    const file = path.join(dir, 'absent.key');
    expect(() => loadKeyFile(file)).toThrow(code('KEY_MISSING'));
    expect(() => loadKeyFile(file)).toThrow(/npm run keygen/);
  });

  test('wrong length, bad base64, empty, a directory or a big file are BAD_KEY', () => {
    const cases: Record<string, string> = {
      short: Buffer.alloc(16, 1).toString('base64') + '\n',
      long: Buffer.alloc(33, 1).toString('base64') + '\n',
      notBase64: '!!!! this is not a key !!!!\n',
      junkInside: '*' + generateKey().toString('base64').slice(1) + '\n',
      twoLines: formatKey(generateKey()) + formatKey(generateKey()),
      empty: '',
      big: 'A'.repeat(5000),
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text, { mode: 0o600 });
      expect(() => loadKeyFile(file)).toThrow(code('BAD_KEY'));
    }
    expect(() => loadKeyFile(dir)).toThrow(code('BAD_KEY'));
    expect(() => parseKey(Buffer.alloc(31).toString('base64'))).toThrow(/31-byte key/);
  });

  test('surrounding whitespace and CRLF are tolerated', () => {
    const key = generateKey();
    expect(parseKey(`  ${key.toString('base64')}\r\n`).equals(key)).toBe(true);
  });

  test('a key readable by other users still loads, with a warning that shows the fix', () => {
    const file = path.join(dir, 'loose.key');
    const key = generateKey();
    fs.writeFileSync(file, formatKey(key));
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    expect(loadKeyFile(file, { warn: (m) => warnings.push(m) }).equals(key)).toBe(true);
    if (unixModes) {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/readable by other users \(mode 644\).*chmod 600/);
    }
  });

  test("with permissions: 'refuse', a key other users can read or write is BAD_KEY naming chmod 600", () => {
    if (!unixModes) return;
    const file = path.join(dir, 'loose.key');
    saveKeyFile(file, generateKey());
    for (const [mode, how] of [
      [0o644, 'readable'],
      [0o604, 'readable'],
      [0o620, 'writable'],
    ] as const) {
      fs.chmodSync(file, mode);
      expect(() => loadKeyFile(file, { permissions: 'refuse' })).toThrow(
        expect.objectContaining({
          code: 'BAD_KEY',
          message: expect.stringMatching(
            new RegExp(`${how} by other users \\(mode ${mode.toString(8)}\\).*chmod 600 `),
          ),
        }),
      );
    }
    fs.chmodSync(file, 0o600);
    expect(loadKeyFile(file, { permissions: 'refuse' })).toHaveLength(32);
  });

  test('loadOrCreateKeyFile writes a new 0600 key only when there is none', () => {
    const file = path.join(dir, 'fresh', 'chat.key');
    const made = generateKey();
    const first = loadOrCreateKeyFile(file, () => made, { permissions: 'refuse' });
    expect(first.created).toBe(true);
    expect(first.key.equals(made)).toBe(true);
    if (unixModes) expect(modeOf(file)).toBe(0o600);
    const again = loadOrCreateKeyFile(file, () => generateKey());
    expect(again).toEqual({ key: made, created: false });
  });

  test('loadOrCreateKeyFile never replaces an existing key, even a bad one', () => {
    const file = path.join(dir, 'bad.key');
    fs.writeFileSync(file, 'not a key\n', { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(file, () => generateKey())).toThrow(code('BAD_KEY'));
    expect(fs.readFileSync(file, 'utf8')).toBe('not a key\n');
  });

  test('the path comes from --key-file, then CHAT_KEY_FILE, then the default', () => {
    expect(resolveKeyFile('/a/flag.key', { CHAT_KEY_FILE: '/b/env.key' })).toBe('/a/flag.key');
    expect(resolveKeyFile(undefined, { CHAT_KEY_FILE: '/b/env.key' })).toBe('/b/env.key');
    expect(resolveKeyFile(undefined, {})).toBe(DEFAULT_KEY_FILE);
    expect(resolveKeyFile('rel.key', {})).toBe(path.resolve('rel.key'));
  });

  test('the default key file is inside the repository and ignored by git', () => {
    expect(DEFAULT_KEY_FILE).toBe(path.join(REPO_ROOT, '.data', 'chat.key'));
    // `git check-ignore` exits 0 when the path is ignored (it reads, never changes, git state).
    expect(() =>
      execFileSync('git', ['check-ignore', '-q', DEFAULT_KEY_FILE], { cwd: REPO_ROOT }),
    ).not.toThrow();
  });

  test('formatKey refuses a key of the wrong size', () => {
    expect(() => formatKey(Buffer.alloc(31))).toThrow(code('BAD_KEY'));
  });
});

test('a key file another process creates while this one writes is never replaced (KEY_EXISTS)', () => {
  // The race: two servers start at once with no key file, and the other
  // one's file appears just before this one gives its temporary file the
  // name. Before, that last step was a rename, which replaced the other
  // file: both servers went on, each with its own key (a review saw it in
  // 3 of 300 real two-process races).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-race-'));
  const file = path.join(dir, 'chat.key');
  const theirs = generateKey();
  for (const publish of ['renameSync', 'linkSync'] as const) {
    const real = fs[publish].bind(fs);
    jest.spyOn(fs, publish).mockImplementationOnce((from, to) => {
      fs.writeFileSync(file, formatKey(theirs), { mode: 0o600 }); // the other process, just in time
      return real(from, to);
    });
  }
  try {
    expect(() => saveKeyFile(file, generateKey())).toThrow(code('KEY_EXISTS'));
    expect(loadKeyFile(file).equals(Buffer.from(theirs))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['chat.key']); // no temporary file left
  } finally {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
