// The inbound queue: arrival order, a bounded batch per event-loop turn, and
// an overflow that drops what is queued (and what follows, until resume).
import { InboundQueue } from '../src/inbound-queue';

const ch = Buffer.from('room');
const msg = (n: number) => Buffer.from(`m${n}`);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('messages are handled in order, at most one batch per turn, never inside push()', async () => {
  const handled: string[] = [];
  const queue = new InboundQueue(
    (_c, m) => handled.push(m.toString()),
    () => {},
    { batch: 3 },
  );
  for (let i = 1; i <= 7; i++) queue.push(ch, msg(i));
  expect(handled).toEqual([]);
  await nextTurn();
  expect(handled).toEqual(['m1', 'm2', 'm3']);
  await nextTurn();
  await nextTurn();
  expect(handled).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  expect(queue.length).toBe(0);
});

test('passing the message cap drops the queue, reports once, and drops the rest until resume()', async () => {
  const handled: string[] = [];
  const overflows: number[] = [];
  const queue = new InboundQueue(
    (_c, m) => handled.push(m.toString()),
    (n) => overflows.push(n),
    { maxMessages: 5 },
  );
  for (let i = 1; i <= 9; i++) queue.push(ch, msg(i));
  expect(overflows).toEqual([6]);
  expect(queue.dropped).toBe(9);
  await nextTurn();
  expect(handled).toEqual([]);
  queue.resume();
  queue.push(ch, msg(10));
  await nextTurn();
  expect(handled).toEqual(['m10']);
});

test('the byte cap counts too', () => {
  const overflows: number[] = [];
  const queue = new InboundQueue(
    () => {},
    (n) => overflows.push(n),
    { maxBytes: 1000 },
  );
  queue.push(ch, Buffer.alloc(600));
  expect(overflows).toEqual([]);
  queue.push(ch, Buffer.alloc(600));
  expect(overflows).toEqual([2]);
});

test('a handler that clears the queue mid-batch stops the batch cleanly', async () => {
  const handled: string[] = [];
  const queue: InboundQueue = new InboundQueue(
    (_c, m) => {
      handled.push(m.toString());
      queue.clear();
    },
    () => {},
  );
  for (let i = 1; i <= 3; i++) queue.push(ch, msg(i));
  await nextTurn();
  expect(handled).toEqual(['m1']);
});

test('a queue that never quite empties still lets go of what it handled', async () => {
  const queue = new InboundQueue(
    () => {},
    () => {},
    { batch: 3 },
  );
  // A batch per turn, behind a few that wait: the queue is never empty.
  for (let i = 0; i < 5; i++) queue.push(ch, msg(i));
  for (let turn = 0; turn < 1000; turn++) {
    for (let i = 0; i < 3; i++) queue.push(ch, msg(i));
    await nextTurn();
  }
  expect(queue.length).toBeGreaterThan(0);
  // Before, it held every message since it was last empty: 3,005 here.
  expect(queue.held).toBeLessThanOrEqual(2 * queue.length + 3);
});
