/**
 * Ending a connection politely: last words, then a FIN, then a deadline.
 *
 * Introduced by stage 4; its servers and those of stages 5 and 6 end every
 * connection this way, one at a time ({@link endPolitely}) or all of them at
 * shutdown ({@link closeServerPolitely}).
 *
 * `socket.destroy()` closes at once, and if unread input is still waiting in
 * our receive buffer the kernel answers with a TCP reset instead of a normal
 * close; a reset can make the peer discard data it has not read yet,
 * including the error line that explains why it was disconnected.
 * `socket.end(lastFrame)` instead sends the line, then a FIN ("nothing
 * more from me"), and waits for the peer's FIN. A well-behaved client (our
 * client, `nc`, telnet) answers at once; a hostile or stuck one might never
 * answer, so a timer destroys the socket after {@link LINGER_MS}. Web servers
 * call this a "lingering close".
 *
 * @module
 */
import type net from 'node:net';

/**
 * How long, in milliseconds, a connection we have ended may take to close
 * its side before we destroy it.
 */
export const LINGER_MS = 2000;

/**
 * Ends a connection after an optional last frame, and destroys it if the
 * peer has not closed its side within {@link LINGER_MS}. Safe to call on a
 * socket that is already ending or gone.
 *
 * @param socket - the connection to end
 * @param lastFrame - an encoded frame to send before the FIN (e.g. a goodbye notice)
 * @param lingerMs - how long the peer may take to close its side (tests shorten it)
 */
export function endPolitely(socket: net.Socket, lastFrame?: Buffer, lingerMs = LINGER_MS): void {
  if (socket.destroyed) return;
  if (!socket.writableEnded) {
    if (lastFrame) socket.end(lastFrame);
    else socket.end();
  }
  // A paused socket never reads the peer's FIN, so 'close' would wait for the timer.
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Stops a server the polite way: it stops accepting at once, every open
 * connection gets `lastFrame` and a FIN ({@link endPolitely}), and the promise
 * resolves once the listening socket and every connection are closed, after
 * each connection's own `'close'` listeners have run (so every "left" notice
 * and log line is done when it resolves).
 *
 * @param server - the listening server
 * @param sockets - every connection it accepted that may still be open
 * @param lastFrame - an encoded goodbye for each connection
 */
export async function closeServerPolitely(
  server: net.Server,
  sockets: Iterable<net.Socket>,
  lastFrame?: Buffer,
): Promise<void> {
  // server.close()'s callback runs when the listening socket is closed and
  // Node counts no connection open; a connection's own 'close' event may come
  // a moment later, so each one is awaited too (listeners run in the order
  // they were added: the owner's first, then this one).
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  const open = [...sockets].filter((socket) => !socket.closed);
  const closed = open.map((socket) => new Promise((resolve) => socket.once('close', resolve)));
  for (const socket of open) endPolitely(socket, lastFrame);
  await Promise.all([stopped, ...closed]);
}
