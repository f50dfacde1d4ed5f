// A save at most once per interval: at once when idle, else once when the
// interval is up, with every change made meanwhile; flush() writes now.
import { PacedSave, SAVE_INTERVAL_MS } from '../src/paced-save';

afterEach(() => jest.useRealTimers());

test('one change is saved at once; a burst within the interval is saved once, when it is up', () => {
  jest.useFakeTimers();
  let saves = 0;
  const paced = new PacedSave(() => saves++);
  paced.request();
  expect(saves).toBe(1);
  for (let i = 0; i < 1_000; i++) paced.request();
  expect(saves).toBe(1);
  jest.advanceTimersByTime(SAVE_INTERVAL_MS - 1);
  expect(saves).toBe(1);
  jest.advanceTimersByTime(1);
  expect(saves).toBe(2);
  jest.advanceTimersByTime(10 * SAVE_INTERVAL_MS); // nothing changed: nothing to save
  expect(saves).toBe(2);
  paced.request(); // idle for longer than the interval: at once again
  expect(saves).toBe(3);
});

test('flush saves a pending change now, and nothing when nothing changed', () => {
  jest.useFakeTimers();
  let saves = 0;
  const paced = new PacedSave(() => saves++);
  paced.flush();
  expect(saves).toBe(0);
  paced.request();
  paced.request(); // pending
  paced.flush();
  expect(saves).toBe(2);
  jest.advanceTimersByTime(SAVE_INTERVAL_MS); // the timer was cleared
  expect(saves).toBe(2);
});

test('saveNow saves at once, even within the interval, and leaves nothing due', () => {
  jest.useFakeTimers();
  let saves = 0;
  const paced = new PacedSave(() => saves++);
  paced.request();
  paced.request(); // due when the interval is up
  paced.saveNow();
  expect(saves).toBe(2);
  jest.advanceTimersByTime(SAVE_INTERVAL_MS);
  expect(saves).toBe(2);
});
