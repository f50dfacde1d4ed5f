/**
 * Stage 2's server: talks with one client at a time, turn by turn, and keeps
 * everyone else waiting in line.
 *
 * Stage 1 accepted one connection and hung up. This server keeps the
 * connection and holds a conversation on it (see {@link converse}): read a
 * line, show it, send a reply, repeat. Clients who connect meanwhile are
 * accepted by the kernel and then left alone, paused, in a queue: their
 * bytes wait in the kernel's receive buffer, unread, until every client
 * before them has left. That is how a classic blocking server behaves
 * (`accept`, talk until done, `accept` again), and it is the problem the next
 * stages solve.
 *
 * @module
 */
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from '../../shared/src/framing';
import { listen } from '../../shared/src/listen';
import type { ServerEvent } from './events';
import { formatServerLine, peerName, type ServerLine } from './messages';
import { converse, type ConversationEnd, type ReplyFn } from './turns';

export type { ServerEvent } from './events';
export type { ReplyFn, ReplyContext } from './turns';

/** Options for {@link startServer}. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Produces the reply to each line (the operator's keyboard, in the real program). */
  reply: ReplyFn;
  /** Told about everything that happens. */
  onEvent?: (event: ServerEvent) => void;
  /** Longest accepted line in bytes. Default 4096. */
  maxFrameBytes?: number;
  /** Clients allowed to wait in line; more are turned away. Default 16. */
  maxWaiting?: number;
  /** When hanging up, how long to wait for a client to close its side, in ms. Default 5000. */
  closeGraceMs?: number;
}

/** A running stage 2 server. */
export interface Stage2Server {
  /** The bound address. */
  host: string;
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** Resolves once the server has stopped: by `close()`, or when the reply source ran dry. */
  closed: Promise<void>;
  /** Tells every client the server is shutting down, hangs up, and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the server and resolves once it is listening.
 *
 * @param options - where to listen, and where replies come from
 * @throws ChatError `LISTEN_FAILED` if the address cannot be used
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0, reply: (text) => text.toUpperCase() });
 * // a client sends "hello\n" and receives "127.0.0.1:PORT: HELLO\n"
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions): Promise<Stage2Server> {
  const { host = '127.0.0.1', port = 0, reply, onEvent = () => {} } = options;
  const maxWaiting = options.maxWaiting ?? 16;
  const closeGraceMs = options.closeGraceMs ?? 5000;
  // pauseOnConnect: accepted sockets are not read until we resume them. A
  // waiting client's line stays in the kernel, unread: "unserved".
  const server = net.createServer({ pauseOnConnect: true });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const shutdown = new AbortController();
  const open = new Set<net.Socket>();
  const waiting: net.Socket[] = [];
  let current: net.Socket | null = null;

  const sendAndHangUp = (socket: net.Socket, line: ServerLine) => {
    socket.removeAllListeners('data'); // stop decoding; just drain until the FIN
    if (!socket.writableEnded) socket.end(encodeFrame(formatServerLine(line)));
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), closeGraceMs);
    socket.once('close', () => clearTimeout(timer));
  };

  // #region focus
  server.on('connection', (socket) => {
    const peer = peerName(socket.remoteAddress, socket.remotePort);
    socket.on('error', () => {}); // resets are ordinary disconnects
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      const index = waiting.indexOf(socket);
      if (index !== -1) waiting.splice(index, 1); // gave up while waiting
    });
    if (waiting.length >= maxWaiting) {
      onEvent({ type: 'turned-away', peer });
      sendAndHangUp(socket, { kind: 'notice', text: 'server busy, try again later' });
      return;
    }
    waiting.push(socket);
    onEvent({ type: 'connected', peer, ahead: waiting.length - 1 + (current ? 1 : 0) });
    void serveNext();
  });

  // One conversation at a time: the next client is served only after the
  // current one has ended.
  async function serveNext(): Promise<void> {
    if (current !== null || shutdown.signal.aborted) return;
    const socket = waiting.shift();
    if (socket === undefined) return;
    current = socket;
    const peer = peerName(socket.remoteAddress, socket.remotePort);
    onEvent({ type: 'serving', peer, waiting: waiting.length });
    let end: ConversationEnd;
    try {
      end = await converse(socket, {
        reply,
        maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        onEvent,
        signal: shutdown.signal,
        closeGraceMs,
      });
    } catch {
      socket.destroy(); // a failing reply source must not take the server down
      end = 'left';
    }
    current = null;
    if (end === 'left' || end === 'refused') onEvent({ type: 'left', peer });
    if (end === 'operator-done') {
      await close(); // the operator has nothing more to say: stop the server
      return;
    }
    return serveNext();
  }
  // #endregion focus

  async function close(): Promise<void> {
    if (!shutdown.signal.aborted) {
      shutdown.abort('shutdown'); // stops the conversation and any pending reply
      server.close(); // no new connections; 'close' fires once all sockets are closed
      const bye = new ChatError('SHUTTING_DOWN', 'the server is shutting down');
      for (const socket of open) {
        sendAndHangUp(socket, { kind: 'error', code: bye.code, message: bye.message });
      }
    }
    await closed;
  }

  const bound = await listen(server, { host, port });
  return { host: bound.address, port: bound.port, closed, close };
}
