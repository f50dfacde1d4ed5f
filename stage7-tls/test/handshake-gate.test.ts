// The handshake gate: at most `perTurn` tasks per turn of the event loop,
// the rest in later turns, in arrival order. Real setImmediate turns, and a
// real server whose handshakes all go through a gate of one per turn.
import { TurnGate } from '../src/handshake-gate';
import { rawTls, startTestServer } from './harness';

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

test('a burst of 20 connections through a server gate of 1 per turn all complete their handshake', async () => {
  const t = await startTestServer({ handshakesPerTurn: 1, maxPreLoginPerAddress: 40 });
  try {
    const clients = await Promise.all(Array.from({ length: 20 }, () => rawTls(t.port)));
    for (const c of clients) c.send({ type: 'who' });
    for (const c of clients) expect(await c.next()).toMatchObject({ code: 'NOT_LOGGED_IN' });
  } finally {
    await t.close();
  }
});
