// Stage 5: bind the sender's label into the associated data. The task is in
// stage5-aes/README.md, section "Exercises".
import net from 'node:net';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectMatch, expectSame } from '../../kit/expect';
import { startClient } from './clients';

/** What this exercise uses from stage 5 and shared/ (their APIs do not change). */
interface Server {
  startServer(options: { port: number }): Promise<{ port: number; close(): Promise<void> }>;
}
interface Crypto {
  generateKey(): Buffer;
}

/** A one-shot forgery: the next chat frame from `from` is relabelled `to`. */
interface Relabel {
  from: string;
  to: string;
}

/**
 * A server that lies: a TCP proxy in front of the real stage 5 server that
 * passes everything through, except that it can relabel one chat frame on
 * its way to the first client that connected, which is what a malicious
 * server (or anyone on the path) could do.
 */
async function startLyingServer(ctx: CheckContext) {
  const { startServer } = ctx.load<Server>('stage5-aes/src/server');
  const real = await startServer({ port: 0 });
  ctx.defer(() => real.close());
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let pending: Relabel | null = null;
  const proxy = net.createServer((client) => {
    const victim = connections++ === 0;
    const upstream = net.connect({ host: '127.0.0.1', port: real.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    let partial = '';
    upstream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      const out = lines.map((line) => {
        const frame = JSON.parse(line) as { type: string; from?: string };
        if (!victim || pending === null || frame.type !== 'chat' || frame.from !== pending.from) {
          return line;
        }
        const forged = JSON.stringify({ ...frame, from: pending.to });
        pending = null;
        return forged;
      });
      if (out.length > 0) client.write(out.map((line) => `${line}\n`).join(''));
    });
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  ctx.defer(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => proxy.close(() => resolve()));
  });
  return {
    port: (proxy.address() as net.AddressInfo).port,
    relabelNext: (relabel: Relabel) => (pending = relabel),
  };
}

export const exercise: Exercise = {
  title: "Bind the sender's label into the associated data",
  readme: 'stage5-aes/README.md',
  checks: [
    {
      name: 'messages still arrive, under the right label',
      hint: 'seal with your own label (from welcome) in the AD; open with the frame\'s "from"',
      async run(ctx) {
        const server = await startLyingServer(ctx);
        const key = ctx.load<Crypto>('shared/src/crypto').generateKey();
        const reader = await startClient(ctx, server.port, key);
        const writer = await startClient(ctx, server.port, key);
        for (const text of ['hello', 'and again']) {
          writer.say(text);
          expectSame(
            await reader.stdout.next(),
            `${writer.label}: ${text}`,
            'what the reader printed',
          );
        }
      },
    },
    {
      name: 'a box relabelled on the way is refused with a warning, never printed',
      hint: 'renderServerFrame must open with the AD of frame.from: a wrong label fails the tag',
      async run(ctx) {
        const server = await startLyingServer(ctx);
        const key = ctx.load<Crypto>('shared/src/crypto').generateKey();
        const reader = await startClient(ctx, server.port, key);
        const writer = await startClient(ctx, server.port, key);
        const framed = await startClient(ctx, server.port, key); // the one it is pinned on
        server.relabelNext({ from: writer.label, to: framed.label });
        writer.say('I never said this');
        writer.say('this one is genuine');
        expectSame(
          await reader.stdout.next(),
          `${writer.label}: this one is genuine`,
          'the first chat line the reader printed',
        );
        const warning = await reader.stderr.waitFor(/failed authentication|^! /);
        expectMatch(warning, new RegExp(`${framed.label}.*failed authentication`), 'the warning');
      },
    },
  ],
};
