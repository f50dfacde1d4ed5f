import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPrivateFile, writePrivateFile } from '../src/private-file';

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-file-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('written 0600 in a new 0700 folder, with no temporary file left behind', () => {
  const file = path.join(dir, 'a', 'b', 'secret');
  expect(writePrivateFile(file, 'one\n')).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe('one\n');
  expect(modeOf(file)).toBe(0o600);
  expect(modeOf(path.dirname(file))).toBe(0o700);
  expect(fs.readdirSync(path.dirname(file))).toEqual(['secret']);
});

test('an existing file is kept unless replace is set; a replaced file does not keep a loose mode', () => {
  const file = path.join(dir, 'secret');
  writePrivateFile(file, 'old');
  expect(writePrivateFile(file, 'new')).toBe(false);
  expect(fs.readFileSync(file, 'utf8')).toBe('old');
  fs.chmodSync(file, 0o644);
  expect(writePrivateFile(file, 'new', { replace: true })).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  expect(modeOf(file)).toBe(0o600);
  expect(fs.readdirSync(dir)).toEqual(['secret']);
});

test("a file another process creates just before this one's is named stays, and nothing is written", () => {
  // Before, a check then a rename: the rename replaced the other file (two
  // nodes starting at once on one data folder could each keep its own key).
  const file = path.join(dir, 'secret');
  for (const publish of ['renameSync', 'linkSync'] as const) {
    const real = fs[publish].bind(fs);
    jest.spyOn(fs, publish).mockImplementationOnce((from, to) => {
      fs.writeFileSync(file, 'theirs', { mode: 0o600 }); // the other process, just in time
      return real(from, to);
    });
  }
  try {
    expect(writePrivateFile(file, 'ours')).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('theirs');
    expect(fs.readdirSync(dir)).toEqual(['secret']);
  } finally {
    jest.restoreAllMocks();
  }
});

test('a symlink at the target is replaced by a file, not followed', () => {
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'do not touch');
  const file = path.join(dir, 'secret');
  fs.symlinkSync(victim, file);
  writePrivateFile(file, 'mine', { replace: true });
  expect(fs.readFileSync(victim, 'utf8')).toBe('do not touch');
  expect(fs.lstatSync(file).isSymbolicLink()).toBe(false);
});

test('reading says why there is no content: missing, not a file, too large; and warns on a loose mode', () => {
  expect(readPrivateFile(path.join(dir, 'absent'))).toMatchObject({ ok: false, reason: 'missing' });
  expect(readPrivateFile(dir)).toMatchObject({ ok: false, reason: 'not-a-file' });
  const big = path.join(dir, 'big');
  fs.writeFileSync(big, 'x'.repeat(100), { mode: 0o600 });
  expect(readPrivateFile(big, { maxBytes: 10 })).toMatchObject({ ok: false, reason: 'too-large' });
  fs.chmodSync(big, 0o640);
  const warnings: string[] = [];
  expect(readPrivateFile(big, { warn: (m) => warnings.push(m) })).toEqual({
    ok: true,
    text: 'x'.repeat(100),
  });
  expect(warnings).toEqual([`${big} is readable by other users (mode 640); fix: chmod 600 ${big}`]);
});

test('a file where the folder should be (--data-dir naming a file) is BAD_ARGUMENT naming it', () => {
  const notAFolder = path.join(dir, 'x');
  fs.writeFileSync(notAFolder, '');
  const inside = path.join(notAFolder, 'server.key');
  const message = `cannot write ${inside}: ${notAFolder} is a file, not a folder`;
  expect(() => writePrivateFile(inside, 'key')).toThrow(
    expect.objectContaining({ code: 'BAD_ARGUMENT', message }),
  );
  // Deeper down (mkdir says ENOTDIR, not EEXIST), the file in the way is still the one named.
  const deeper = path.join(notAFolder, 'a', 'b', 'server.key');
  expect(() => writePrivateFile(deeper, 'key', { replace: true })).toThrow(
    expect.objectContaining({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining(`: ${notAFolder} is a file`),
    }),
  );
  expect(fs.readdirSync(dir)).toEqual(['x']);
});
