/**
 * Bytes through a real loopback connection in small pieces: how a check
 * shows that a decoder copes with whatever chunks TCP hands it, not just
 * with the splits a unit test thought of.
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import type { CheckContext } from './check';

/**
 * Writes `bytes` from a client to a server on port 0, `pieceBytes` at a time
 * (each piece its own write, Nagle off), and hands every chunk the server
 * reads to `onChunk`, in order. Resolves when `onChunk` returns `true` (it
 * has all it expects) or the connection ends; the check then compares what
 * it collected. Server and client are closed after the check.
 */
export async function trickle(
  ctx: CheckContext,
  bytes: Buffer,
  pieceBytes: number,
  onChunk: (chunk: Buffer) => boolean,
): Promise<void> {
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => void (onChunk(chunk) && done()));
    socket.on('end', done);
  });
  ctx.defer(() => server.close());
  await once(server.listen(0, '127.0.0.1'), 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  ctx.defer(() => client.destroy());
  client.setNoDelay(true);
  for (let i = 0; i < bytes.length; i += pieceBytes)
    client.write(bytes.subarray(i, i + pieceBytes));
  client.end();
  await finished;
}
