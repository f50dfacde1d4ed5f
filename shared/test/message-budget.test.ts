import { MessageBudget } from '../src/message-budget';

const LIMIT = { capacity: 3, refillMs: 200 };

test('a full bucket lets a burst of `capacity` frames through, then says how long to wait', () => {
  const budget = new MessageBudget(LIMIT, 0);
  expect([budget.take(0), budget.take(0), budget.take(0)]).toEqual([0, 0, 0]);
  expect(budget.take(0)).toBe(200);
  // Nothing was spent by the refusal: 50 ms later the wait is 150 ms.
  expect(budget.take(50)).toBe(150);
});

test('tokens come back one per `refillMs`, never above `capacity`', () => {
  const budget = new MessageBudget(LIMIT, 0);
  for (let i = 0; i < 3; i++) budget.take(0);
  expect(budget.take(200)).toBe(0);
  expect(budget.take(200)).toBe(200);
  // A long silence refills the bucket, but only to its size.
  expect([0, 0, 0, 0].map(() => budget.take(60_000))).toEqual([0, 0, 0, 200]);
});
