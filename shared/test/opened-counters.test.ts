import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenedCounters } from '../src/opened-counters';
import { SAVE_INTERVAL_MS } from '../src/paced-save';
import { code } from './e2e-fixtures';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opened-'));
  file = path.join(dir, 'alice.opened-counters');
});
afterEach(() => {
  jest.useRealTimers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const onDisk = () => OpenedCounters.load(file).positionOf('bob');

test('a change is written at once, the next within a second, the rest at close; the file is 0600', () => {
  jest.useFakeTimers();
  const opened = OpenedCounters.load(file);
  opened.advance('bob', { epoch: 5, next: 0 });
  expect(onDisk()).toEqual({ epoch: 5, next: 0 });
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  opened.advance('bob', { epoch: 5, next: 3 });
  expect(onDisk()).toEqual({ epoch: 5, next: 0 });
  jest.advanceTimersByTime(SAVE_INTERVAL_MS);
  expect(onDisk()).toEqual({ epoch: 5, next: 3 });
  opened.advance('bob', { epoch: 5, next: 4 });
  opened.close();
  expect(onDisk()).toEqual({ epoch: 5, next: 4 });
});

test("key boxes from sender after sender (a server's ghosts) cost one write a second, not one each", () => {
  jest.useFakeTimers();
  const opened = OpenedCounters.load(file);
  for (let i = 0; i < 2_000; i++) opened.advance(`ghost${i}`, { epoch: 1, next: 0 });
  const onDisk = () => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).senders).length;
  expect(onDisk()).toBe(1);
  jest.advanceTimersByTime(SAVE_INTERVAL_MS);
  expect(onDisk()).toBe(2_000);
});

test('positions only grow: an older epoch, or a smaller counter, changes nothing', () => {
  const opened = OpenedCounters.inMemory();
  opened.advance('bob', { epoch: 5, next: 9 });
  opened.advance('bob', { epoch: 4, next: 100 });
  opened.advance('bob', { epoch: 5, next: 2 });
  expect(opened.positionOf('bob')).toEqual({ epoch: 5, next: 9 });
  opened.advance('bob', { epoch: 6, next: 0 });
  expect(opened.positionOf('bob')).toEqual({ epoch: 6, next: 0 });
  expect(opened.positionOf('carol')).toBeUndefined();
});

test('a file that is not an opened-counters file is BAD_IDENTITY_FILE; a missing one is empty', () => {
  expect(OpenedCounters.load(file).positionOf('bob')).toBeUndefined();
  for (const text of [
    'not json',
    '{"format":"socket-chat known members v1","members":{}}',
    '{"format":"socket-chat opened counters v1","senders":{"bob":{"epoch":-1,"next":0}}}',
    '{"format":"socket-chat opened counters v1","senders":{"../x":{"epoch":1,"next":0}}}',
  ]) {
    fs.writeFileSync(file, text, { mode: 0o600 });
    expect(() => OpenedCounters.load(file)).toThrow(code('BAD_IDENTITY_FILE'));
  }
});
