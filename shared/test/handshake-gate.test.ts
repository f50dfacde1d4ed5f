// The handshake gate: at most `perTurn` tasks per turn of the event loop,
// the rest in later turns, in arrival order, on real setImmediate turns.
// (Stage 7's limits test sends a burst through a real server's gate.)
import { TurnGate } from '../src/handshake-gate';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('5 tasks through a gate of 2 per turn run 2, then 2, then 1, in order', async () => {
  const gate = new TurnGate(2);
  const ran: number[] = [];
  for (let i = 0; i < 5; i++) gate.run(() => ran.push(i));
  expect(ran).toEqual([0, 1]);
  expect(gate.waiting).toBe(3);
  await nextTurn();
  expect(ran).toEqual([0, 1, 2, 3]);
  await nextTurn();
  expect(ran).toEqual([0, 1, 2, 3, 4]);
  expect(gate.waiting).toBe(0);
  // A new turn has room again: the next task runs at once.
  await nextTurn();
  gate.run(() => ran.push(5));
  expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
});
