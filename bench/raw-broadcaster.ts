/**
 * The baseline: the smallest Node TCP broadcaster that still frames lines,
 * what "as fast as Node goes on this machine" means for the benchmark. No
 * decoding, no sender prefix, no limits, no notices: the complete lines of
 * one read go, as the same bytes, in one write to every other client. (The
 * stages' room also merges the reads of one event-loop turn per member,
 * shared/src/room.ts; the baseline stays plain, so the ratios show what that
 * buys.) Deliberately unsafe (a client that never sends a newline, or stops
 * reading, grows its buffers forever): never use it as a chat server.
 *
 * Run: `node --import tsx bench/raw-broadcaster.ts --port 0`
 *
 * @module
 */
import net from 'node:net';
import { parseCommandLine, runMain } from '../shared/src/cli';

runMain(async () => {
  const { endpoint } = parseCommandLine(process.argv.slice(2), process.env);
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.setNoDelay(true); // the same socket option as the chat servers: compare code, not Nagle
    let pending: Buffer = Buffer.alloc(0); // the unfinished tail of the last read
    socket.on('data', (chunk: Buffer) => {
      const lastNewline = chunk.lastIndexOf(0x0a);
      if (lastNewline === -1) {
        pending = Buffer.concat([pending, chunk]);
        return;
      }
      // Node hands every read a fresh Buffer, so slicing it without a copy is safe.
      const complete = chunk.subarray(0, lastNewline + 1);
      const lines = pending.length === 0 ? complete : Buffer.concat([pending, complete]);
      pending = chunk.subarray(lastNewline + 1);
      for (const other of clients) if (other !== socket) other.write(lines);
    });
    socket.on('error', () => socket.destroy()); // a reset is an ordinary disconnect
    socket.on('close', () => clients.delete(socket));
  });
  server.listen(endpoint.port, endpoint.host, () => {
    const { address, port } = server.address() as net.AddressInfo;
    console.log(`listening on ${address}:${port}`);
  });
  const stop = () => {
    for (const socket of clients) socket.destroy();
    server.close(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
