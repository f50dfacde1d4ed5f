import { startServer } from '../src/server';
import { chatFrom, joinMany, readUntil } from './chat-peer';

test('a client that stops reading is disconnected at the cap; the others get everything, in order', async () => {
  const log: string[] = [];
  // A small cap so the test reaches it quickly; the default is 1 MiB.
  const server = await startServer({ port: 0, maxQueueBytes: 32 * 1024, log: (l) => log.push(l) });
  const [sender, reader, stuck] = await joinMany(server.port, 3);
  try {
    stuck!.socket.pause(); // stops reading: its kernel buffers fill, then the server's queue
    const sent: string[] = [];
    const stuckLeft = (lines: string[]) => lines.includes(`* ${stuck!.label} left (2 online)`);
    while (!stuckLeft(reader!.lines.lines)) {
      if (sent.length > 100_000) throw new Error('the stuck client was never disconnected');
      const batch = Array.from({ length: 50 }, (_, i) => `${sent.length + i} ${'w'.repeat(4000)}`);
      sent.push(...batch);
      sender!.socket.write(batch.join('\n') + '\n');
      // Pace the sender by the reader, so only the stuck client falls behind.
      await readUntil(reader!, (lines) => lines.includes(`${sender!.label}: ${batch[49]}`));
    }
    sender!.say('after');
    await readUntil(reader!, (lines) => lines.includes(`${sender!.label}: after`));
    expect(chatFrom(reader!, sender!)).toEqual([...sent, 'after']);
    expect(log).toContain(`${stuck!.label} disconnected: SLOW_CONSUMER`);
    expect(server.online).toBe(2);
    // The stuck client's connection is really gone, with part of the backlog at most.
    stuck!.socket.resume();
    await stuck!.closed;
    expect(chatFrom(stuck!, sender!).length).toBeLessThan(sent.length);
  } finally {
    for (const p of [sender, reader, stuck]) p!.socket.destroy();
    await server.close();
  }
});

test('a client that stops reading and then half-closes is let go, not kept with its queue for good', async () => {
  // A cap no test reaches: this client is not cut off for the size of its queue.
  const server = await startServer({ port: 0, maxQueueBytes: 1024 * 1024 * 1024 });
  const [sender, reader, stuck] = await joinMany(server.port, 3);
  try {
    stuck!.socket.pause();
    // 16 MB: more than the kernel's buffers take for a client that reads
    // nothing, so the rest waits in the server's queue for it.
    for (let round = 0; round < 80; round++) {
      const batch = Array.from({ length: 50 }, (_, i) => `${round}.${i} ${'w'.repeat(4000)}`);
      sender!.socket.write(batch.join('\n') + '\n');
      await readUntil(reader!, (lines) => lines.includes(`${sender!.label}: ${batch[49]}`));
    }
    stuck!.socket.end(); // "I have nothing more to say", and it still reads nothing
    // Before: the server's own end waited behind that queue for ever, and
    // the client stayed a member (and its queue in memory) until a restart.
    await readUntil(reader!, (lines) => lines.includes(`* ${stuck!.label} left (2 online)`));
    expect(server.online).toBe(2);
  } finally {
    for (const p of [sender, reader, stuck]) p!.socket.destroy();
    await server.close();
  }
}, 20_000);
