import fs from 'node:fs';
import path from 'node:path';
import { BOX_OVERHEAD } from '../../shared/src/crypto';
import { MAX_FRAME_BYTES, MAX_TEXT_BYTES } from '../../shared/src/protocol';
import { decodeServerFrame } from '../src/messages';
import { startServer, type ChatServer } from '../src/server';
import { rawPeer } from './harness';

let server: ChatServer;
const logs: string[] = [];
beforeEach(async () => {
  logs.length = 0;
  server = await startServer({ port: 0, log: (line) => logs.push(line) });
});
afterEach(() => server.close());

const someBox = (fill: number) => Buffer.alloc(40, fill).toString('base64');

describe('stage 5 server', () => {
  test('welcome, joined and left are JSON frames with the server-assigned labels', async () => {
    const a = await rawPeer(server.port);
    expect(a.label).toMatch(/^127\.0\.0\.1:\d+$/);
    const b = await rawPeer(server.port);
    expect(await a.frame((f) => f.type === 'joined')).toEqual({
      type: 'joined',
      who: b.label,
      online: 2,
    });
    b.socket.end();
    expect(await a.frame((f) => f.type === 'left')).toEqual({
      type: 'left',
      who: b.label,
      online: 1,
    });
    a.socket.end();
  });

  test('above the presence limit joins and leaves go unannounced, as in stages 4 and 6', async () => {
    const small = await startServer({ port: 0, presenceLimit: 2 });
    try {
      const a = await rawPeer(small.port);
      const b = await rawPeer(small.port); // the room has 2 = the limit: announced
      const c = await rawPeer(small.port); // 3: not announced, but welcomed with the count
      expect(JSON.parse(c.lines.lines[0]!)).toMatchObject({ type: 'welcome', online: 3 });
      c.socket.end(); // a leave from a room of 3: not announced
      await c.lines.ended;
      b.socket.end(); // from a room of 2: announced
      // A notice not sent cannot be awaited; b's "left" comes after c's would have.
      await a.frame((f) => f.type === 'left' && f.who === b.label);
      const notices = a.lines.lines
        .map((l) => JSON.parse(l) as { type: string; who?: string })
        .filter((f) => f.type === 'joined' || f.type === 'left')
        .map((f) => `${f.type} ${f.who === b.label ? 'b' : f.who === c.label ? 'c' : f.who}`);
      expect(notices).toEqual(['joined b', 'left b']);
      a.socket.end();
    } finally {
      await small.close();
    }
  });

  test('a chat box is relayed byte for byte to the others, with from = the sender, not echoed', async () => {
    const a = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    const c = await rawPeer(server.port);
    const box = someBox(1);
    a.send(JSON.stringify({ type: 'chat', box }) + '\n');
    for (const peer of [b, c]) {
      const line = await peer.lines.waitFor((l) => l.includes('"chat"'));
      expect(line).toBe(JSON.stringify({ type: 'chat', from: a.label, box }));
    }
    // a's next chat frame, if any, would be an echo; send from b and check a sees only b's.
    b.send(JSON.stringify({ type: 'chat', box: someBox(2) }) + '\n');
    const first = await a.frame((f) => f.type === 'chat');
    expect(first).toMatchObject({ from: b.label, box: someBox(2) });
    for (const p of [a, b, c]) p.socket.end();
  });

  test('a client cannot choose its own "from": an extra field is refused, not relayed', async () => {
    const a = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    a.send(JSON.stringify({ type: 'chat', from: b.label, box: someBox(3) }) + '\n');
    expect(await a.frame((f) => f.type === 'error')).toMatchObject({ code: 'BAD_FRAME' });
    a.send(JSON.stringify({ type: 'chat', box: someBox(4) }) + '\n');
    // The first chat b receives is the valid one: the forged frame never reached it.
    expect(await b.frame((f) => f.type === 'chat')).toMatchObject({
      from: a.label,
      box: someBox(4),
    });
    a.socket.end();
    b.socket.end();
  });

  test('malformed frames get BAD_FRAME (or BAD_UTF8) and the connection keeps working', async () => {
    const a = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    const bad: (string | Buffer)[] = [
      'hello, I am not JSON\n',
      '{"type":"chat"\n',
      '[1,2,3]\n',
      '{"type":"shout","box":"AAAA"}\n',
      '{"type":"chat","box":"not base64!"}\n',
      '{"type":"chat","box":12}\n',
      `{"type":"chat","box":"${Buffer.alloc(BOX_OVERHEAD - 1).toString('base64')}"}\n`,
      `{"type":"chat","box":"${Buffer.alloc(MAX_TEXT_BYTES + BOX_OVERHEAD + 1).toString('base64')}"}\n`,
      Buffer.from([0xff, 0xfe, 0x0a]),
    ];
    for (const frame of bad) {
      a.send(frame);
      const error = await a.frame((f) => f.type === 'error');
      expect(['BAD_FRAME', 'BAD_UTF8']).toContain(error.type === 'error' && error.code);
    }
    a.send(JSON.stringify({ type: 'chat', box: someBox(5) }) + '\n');
    expect(await b.frame((f) => f.type === 'chat')).toMatchObject({ box: someBox(5) });
    expect(server.online).toBe(2);
    a.socket.end();
    b.socket.end();
  });

  // Attack: bad frames by the thousand (as in stage 4): each was parsed,
  // answered with a write of its own and logged on a line of its own, and
  // 32,768 `{}` lines in one write held the event loop for a tenth of a
  // second. Each is still answered, but a read's answers go out as one
  // write, with one log line.
  test('32,768 bad frames in one write: every one answered, one log line per read, not per frame', async () => {
    const flooder = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    const frames = 32_768;
    flooder.send('{}\n'.repeat(frames));
    flooder.send(JSON.stringify({ type: 'chat', box: someBox(7) }) + '\n');
    expect(await b.frame((f) => f.type === 'chat')).toMatchObject({ from: flooder.label });
    // Its welcome, b's arrival, then the answers.
    await flooder.lines.waitFor(() => flooder.lines.lines.length >= 2 + frames);
    const codes = new Set(
      flooder.lines.lines.slice(2).map((l) => {
        const d = decodeServerFrame(l);
        return d.ok && d.frame.type === 'error' ? d.frame.code : l;
      }),
    );
    expect(codes).toEqual(new Set(['BAD_FRAME']));
    const logLines = logs.filter((l) => l.includes('bad frame'));
    const reported = logLines.reduce(
      (sum, l) => sum + Number(/sent (\d+) bad/.exec(l)?.[1] ?? 1),
      0,
    );
    expect(reported).toBe(frames);
    expect(logLines.length).toBeLessThan(20); // one per read of up to 64 KiB
    flooder.socket.end();
    b.socket.end();
  });

  test('an oversized frame gets FRAME_TOO_LARGE and that client, only, is disconnected', async () => {
    const a = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    a.send('{"type":"chat","box":"' + 'A'.repeat(MAX_FRAME_BYTES) + '"}\n');
    expect(await a.frame((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await a.lines.ended;
    expect(await b.frame((f) => f.type === 'left')).toMatchObject({ who: a.label, online: 1 });
    const c = await rawPeer(server.port);
    c.send(JSON.stringify({ type: 'chat', box: someBox(6) }) + '\n');
    expect(await b.frame((f) => f.type === 'chat')).toMatchObject({ from: c.label });
    b.socket.end();
    c.socket.end();
  });

  test('close() tells clients SHUTTING_DOWN and resolves once they are gone', async () => {
    const a = await rawPeer(server.port);
    const closed = server.close();
    expect(await a.frame((f) => f.type === 'error')).toMatchObject({ code: 'SHUTTING_DOWN' });
    await a.lines.ended;
    await closed;
  });

  test('the log records connections and errors, never a box', async () => {
    const a = await rawPeer(server.port);
    const b = await rawPeer(server.port);
    a.send(JSON.stringify({ type: 'chat', box: someBox(7) }) + '\n');
    await b.frame((f) => f.type === 'chat');
    a.send('junk\n');
    await a.frame((f) => f.type === 'error');
    expect(logs.some((l) => l.includes('BAD_FRAME'))).toBe(true);
    expect(logs.join('\n')).not.toContain(someBox(7));
    a.socket.end();
    b.socket.end();
  });

  test('the server has no key: its code imports neither the crypto nor the key-file module', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', 'src', 'server.ts'), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const name of imports) expect(name).not.toMatch(/crypto|key-file/);
  });
});

test('a client that stops reading and then half-closes is let go, not kept with its queue for good', async () => {
  // A cap no test reaches: this client is not cut off for the size of its queue.
  const roomy = await startServer({ port: 0, maxQueueBytes: 1024 * 1024 * 1024 });
  const [sender, reader, stuck] = [
    await rawPeer(roomy.port),
    await rawPeer(roomy.port),
    await rawPeer(roomy.port),
  ];
  try {
    stuck.socket.pause();
    // 16 MB: more than the kernel's buffers take for a client that reads
    // nothing, so the rest waits in the server's queue for it.
    for (let round = 0; round < 80; round++) {
      const box = Buffer.alloc(3000, round).toString('base64');
      sender.send(`${JSON.stringify({ type: 'chat', box })}\n`.repeat(50));
      await reader.frame((f) => f.type === 'chat' && f.box === box);
    }
    stuck.socket.end(); // "I have nothing more to say", and it still reads nothing
    // Before: the server's own end waited behind that queue for ever, and
    // the client stayed a member (and its queue in memory) until a restart.
    await reader.frame((f) => f.type === 'left' && f.who === stuck.label);
    expect(roomy.online).toBe(2);
  } finally {
    for (const p of [sender, reader, stuck]) p.socket.destroy();
    await roomy.close();
  }
}, 20_000);
