// Attack (issue 10, item 3): a logged-in member freezing the room with cheap
// bad frames. 300 KB of `x\n` is 153,600 frames that are not JSON; each used
// to cost an error object, an error reply and a log line, all handled in one
// go, so chat between two other users stalled for seconds and the log grew by
// megabytes. Now a connection has a budget of errors (then TOO_MANY_ERRORS and
// a close), repeated log lines are sampled, and no connection gets more than
// a bounded number of frames handled per turn of the event loop.
//
// The one timed assertion in the stage 6 tests, asked for by the issue: the
// round trip between the two others stays under a generous bound while the
// flood arrives. It measures the stall the flood causes (seconds before the
// fix), not the machine's speed.
import { chatGetsThrough, logIn, startTestServer, type TestServer } from './harness';

/** Generous: a round trip on an idle loopback takes about a millisecond. */
const ROUND_TRIP_BOUND_MS = 500;
const FLOOD = Buffer.from('x\n'.repeat(150 * 1024)); // 300 KiB, 153,600 bad frames
/** Log growth allowed for the whole flood: a few dozen lines. */
const LOG_GROWTH_BOUND_BYTES = 32 * 1024;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

test('300 KB of bad frames from a member: chat stays fast, the flooder is cut, the log stays small', async () => {
  const alice = await logIn(t, 'alice', 'alice-password', true);
  const bob = await logIn(t, 'bob', 'bob-password', true);
  const mallory = await logIn(t, 'mallory', 'mallory-password', true);
  const codes: string[] = [];
  mallory.frames.listen((d) => {
    if (d.ok && d.frame.type === 'error') codes.push(d.frame.code);
  });
  const malloryClosed = new Promise<void>((resolve) => mallory.socket.once('close', resolve));
  const logBytes = () => t.logLines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  const logBefore = logBytes();

  mallory.socket.write(FLOOD);
  const roundTrips: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    expect(await chatGetsThrough(t, alice, bob, `ping ${i}`)).toBe('alice');
    expect(await chatGetsThrough(t, bob, alice, `pong ${i}`)).toBe('bob');
    roundTrips.push(performance.now() - started);
  }
  await malloryClosed;

  expect(Math.max(...roundTrips)).toBeLessThan(ROUND_TRIP_BOUND_MS);
  expect(codes).toContain('TOO_MANY_ERRORS');
  expect(codes.filter((c) => c === 'BAD_FRAME').length).toBeLessThan(100);
  expect(logBytes() - logBefore).toBeLessThan(LOG_GROWTH_BOUND_BYTES);
  expect(t.server.online.sort()).toEqual(['alice', 'bob']);
  await t.leave(alice.socket, 'alice');
  await t.leave(bob.socket, 'bob');
}, 60_000);
