import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { MessageBudget, ReadPacer } from '../src/message-budget';

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

test('a read pacer goes on at the next turn, or once a refused frame has its token', () => {
  jest.useFakeTimers();
  try {
    const pacer = new ReadPacer({ capacity: 1, refillMs: 200 });
    const socket = new PassThrough() as unknown as net.Socket;
    const wentOn: string[] = [];
    expect(pacer.holding).toBe(false);
    pacer.later(socket, () => wentOn.push(`next turn, holding: ${pacer.holding}`));
    expect(pacer.holding).toBe(true); // frames read are waiting for it
    jest.advanceTimersToNextTimer(); // the setImmediate
    expect(wentOn).toEqual(['next turn, holding: false']);
    expect(pacer.spend()).toBe(0);
    expect(pacer.spend()).toBe(200);
    pacer.later(socket, () => wentOn.push('token back'));
    expect(socket.isPaused()).toBe(true);
    jest.advanceTimersByTime(199);
    expect(wentOn).toHaveLength(1);
    expect(pacer.holding).toBe(true);
    jest.advanceTimersByTime(1);
    expect(wentOn).toEqual(['next turn, holding: false', 'token back']);
    expect(pacer.holding).toBe(false);
  } finally {
    jest.useRealTimers();
  }
});
