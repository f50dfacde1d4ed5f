// A vanished peer leaves the room (issue 10, item 5). A client whose machine
// lost power, or whose network path died, sends no FIN and no RST: without
// a timer of our own its connection would stay "online" for hours. After
// half of `idleTimeoutMs` of silence the server sends `{"type":"ping"}`; any
// byte from the client (a real client answers `{"type":"pong"}` by itself)
// counts as life; after the whole of it in silence the server closes the
// connection with IDLE_TIMEOUT and the others see the user leave. TCP
// keepalive is switched on as well, for the kernel to notice dead peers.
//
// The timeout is short here (1.5 s) so the test does not wait minutes; the
// test waits for events (a ping arriving, a close), not for time to pass.
import { logIn, rawAuth, rawConnect, startTestServer, type TestServer } from './harness';

const IDLE_TIMEOUT_MS = 1500;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ idleTimeoutMs: IDLE_TIMEOUT_MS });
});
afterAll(() => t.close());

test('a silent logged-in connection is pinged, then closed with IDLE_TIMEOUT; a real client stays', async () => {
  const alice = await logIn(t, 'alice', 'alice-password', true);
  let pingsSeen = 0;
  let onPing: () => void = () => {};
  alice.socket.on('data', (chunk: Buffer) => {
    pingsSeen += chunk.toString().split('"type":"ping"').length - 1;
    onPing();
  });
  const pings = (n: number) =>
    new Promise<void>((resolve) => {
      onPing = () => pingsSeen >= n && resolve();
      onPing();
    });
  const lefts: string[] = [];
  alice.frames.listen((d) => {
    if (d.ok && d.frame.type === 'left') lefts.push(d.frame.who);
  });

  // A client that logs in and then never sends another byte (nor reads a ping).
  const ghost = await rawConnect(t.port);
  expect(await rawAuth(ghost, t.key, 'register', 'ghost', 'ghost-password')).toMatchObject({
    type: 'welcome',
  });
  expect(await ghost.frame((f) => f.type === 'ping')).toEqual({ type: 'ping' });
  expect(await ghost.frame((f) => f.type === 'error')).toMatchObject({ code: 'IDLE_TIMEOUT' });
  await ghost.closed;
  expect(t.server.online).toEqual(['alice']);
  expect(lefts).toEqual(['ghost']);

  // Alice said nothing either, but her client answered every ping: she is
  // still online after more pings than one timeout would allow unanswered.
  await pings(3);
  expect(t.server.online).toEqual(['alice']);
  expect(alice.socket.destroyed).toBe(false);
  await t.leave(alice.socket, 'alice');
}, 20_000);
