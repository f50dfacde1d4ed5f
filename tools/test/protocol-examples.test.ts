/**
 * What docs/protocol.md says the servers do, checked against the real
 * servers: the stage 5 shutdown example is the line the server sends, the
 * longest line a stage 4 server relays is as long as the spec says, and a
 * second login in stage 6 is BAD_FRAME on a connection that stays open.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LineDecoder } from '../../shared/src/framing';
import { connect, LineReader } from '../../shared/test/helpers';
import { startServer as startStage4 } from '../../stage4-multiclient/src/server';
import { startServer as startStage5 } from '../../stage5-aes/src/server';
import { rawAuth, rawConnect, startTestServer } from '../../testkit/stage6';
import type { WireVectors } from '../wire-vectors-build';

const vectors = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../docs/wire-vectors.json'), 'utf8'),
) as WireVectors;

test('stage 5: the shutdown example is exactly the line the server sends', async () => {
  const server = await startStage5({ port: 0 });
  const socket = await connect(server.port);
  const lines = new LineReader(socket);
  await lines.waitFor(/"type":"welcome"/);
  const closing = server.close();
  const last = await lines.waitFor(/"SHUTTING_DOWN"/);
  socket.end();
  await closing;
  const example = vectors.frames.stage5.serverToClient.find((v) => v.name === 'shutdown');
  expect(last).toBe(example?.line);
});

test('stage 4: a 4096-byte message is relayed as label + ": " + 4096 bytes, beyond a 4096-byte cap', async () => {
  const server = await startStage4({ port: 0 });
  try {
    const sender = await connect(server.port);
    const receiver = await connect(server.port);
    const lines = new LineReader(receiver);
    await lines.waitFor(/^\* welcome/);
    const label = `127.0.0.1:${sender.localPort}`;
    const text = 'x'.repeat(4096);
    sender.write(`${text}\n`);
    const relayed = await lines.waitFor((l) => l.startsWith(`${label}: `));
    expect(Buffer.byteLength(relayed)).toBe(label.length + 2 + 4096);
    expect(Buffer.byteLength(relayed)).toBeGreaterThan(4096);
    expect(Buffer.byteLength(relayed)).toBeLessThanOrEqual(4096 + 64 + 2); // the spec's bound
    // A reader with the sender's own 4096-byte cap would drop it, as the spec warns.
    const strict = new LineDecoder({ maxFrameBytes: 4096 }).push(Buffer.from(relayed + '\n'));
    expect(strict).toMatchObject([{ ok: false, error: { code: 'FRAME_TOO_LARGE' } }]);
    sender.destroy();
    receiver.destroy();
  } finally {
    await server.close();
  }
});

test('stage 6: login after login is BAD_FRAME, and the connection stays open', async () => {
  const t = await startTestServer();
  try {
    const conn = await rawConnect(t.port);
    // register logs the connection in
    expect(await rawAuth(conn, t.key, 'register', 'first', 'first-password')).toMatchObject({
      type: 'welcome',
    });
    conn.sendJson({ type: 'login', box: 'A'.repeat(40) });
    expect(await conn.frame((f) => f.type === 'error')).toEqual({
      type: 'error',
      code: 'BAD_FRAME',
      message: 'already logged in on this connection',
    });
    conn.sendJson({ type: 'who' });
    expect(await conn.frame((f) => f.type === 'who')).toMatchObject({ count: 1 });
    conn.socket.destroy();
  } finally {
    await t.close();
  }
});
