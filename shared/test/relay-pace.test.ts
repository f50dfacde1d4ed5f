import { MessageBudget } from '../src/message-budget';
import { RelayPace } from '../src/relay-pace';

const limit = { capacity: 20, refillMs: 200 };

test('30 frames at once: the server holds 10, and lets the last through 2 s later', () => {
  const pace = new RelayPace(limit);
  for (let i = 0; i < 30; i++) pace.sent(1000);
  expect(pace.held(1000)).toEqual({ frames: 10, ms: 2000 });
  expect(pace.held(2900)).toEqual({ frames: 1, ms: 100 });
  expect(pace.held(3000)).toEqual({ frames: 0, ms: 0 });
});

test('the burst alone, or frames at the pace, leave nothing held', () => {
  const burst = new RelayPace(limit);
  for (let i = 0; i < 20; i++) burst.sent(0);
  expect(burst.held(0)).toEqual({ frames: 0, ms: 0 });
  const steady = new RelayPace(limit);
  for (let t = 0; t < 60_000; t += 200) steady.sent(t);
  expect(steady.held(60_000)).toEqual({ frames: 0, ms: 0 });
});

test("agrees with the server's bucket: the last frame goes when the server would take it", () => {
  // Frames sent at scattered moments (a fixed pseudo-random sequence); the
  // server takes each when its budget has a token.
  let seed = 7;
  const gap = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 400;
  const pace = new RelayPace(limit);
  const server = new MessageBudget(limit, 0);
  let clock = 0;
  let serverAt = 0;
  for (let i = 0; i < 500; i++) {
    clock += gap();
    pace.sent(clock);
    serverAt = Math.max(serverAt, clock);
    for (let wait = server.take(serverAt); wait > 0; wait = server.take(serverAt)) serverAt += wait;
    const { ms } = pace.held(clock);
    expect(Math.abs(clock + ms - serverAt)).toBeLessThanOrEqual(1); // the server rounds waits up
  }
});
