/**
 * Stage 4's chat server: many clients in one room, every message broadcast
 * to everyone else with the sender's `IP:PORT`.
 *
 * What is new since stage 3 is not concurrency (the event loop already served
 * many sockets) but *conversation*: a message from one connection is written
 * to all the others. That brings its own problems, each handled here and
 * taught in the stage README: a member list that changes while we iterate it,
 * disconnects reported several times, and clients that stop reading.
 *
 * @module
 */
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { encodeFrame, LineDecoder } from '../../shared/src/framing';
import { peerLabel } from '../../shared/src/peer-label';
import { endPolitely } from '../../shared/src/polite-close';
import { Room } from '../../shared/src/room';
import {
  chatLine,
  errorLine,
  joinedNotice,
  leftNotice,
  SHUTDOWN_NOTICE,
  welcomeNotice,
} from './messages';

const CR_INSIDE_LINE = new ChatError('BAD_FRAME', 'a line cannot contain a carriage return');

/** Options for {@link startServer}; every one is optional. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1` (loopback: not exposed to the network). */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Longest accepted line in bytes. Default 4096 (`DEFAULT_MAX_FRAME_BYTES`). */
  maxFrameBytes?: number;
  /** Per-client output queue cap in bytes; past it the client is disconnected. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Receives one line per connection event (joins, leaves, errors); never message text. */
  log?: (line: string) => void;
}

/** A running server. */
export interface ChatServer {
  /** The address it listens on. */
  host: string;
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  /** How many clients are in the room right now. */
  readonly online: number;
  /**
   * Stops accepting, tells every client `* server shutting down`, ends every
   * connection, and resolves when all of them are closed. Safe to call twice.
   */
  close(): Promise<void>;
}

/** One connected client, as the room sees it. */
interface Member {
  readonly socket: net.Socket;
  /** `IP:PORT`, assigned by the server: a client cannot choose or fake it. */
  readonly label: string;
}

/**
 * Starts the stage 4 chat server.
 *
 * @param options - `{ host = '127.0.0.1', port = 0, maxFrameBytes = 4096,
 *   maxQueueBytes = 1 MiB, log }`
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED` if the address cannot be used (e.g. the port is taken)
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0 });
 * console.log(`listening on ${server.host}:${server.port}`);
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<ChatServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const room = new Room<Member>({
    maxQueueBytes: options.maxQueueBytes,
    onSlowConsumer: (member, error) => log(`${member.label} disconnected: ${error.code}`),
  });
  // Every open socket, members or not: close() must wait for all of them.
  const sockets = new Set<net.Socket>();
  let allClosed: (() => void) | undefined; // set while close() waits

  // #region focus
  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    // Chat lines are small and should leave at once. Nagle's algorithm would
    // hold a small write back while an earlier one is unacknowledged, adding
    // up to tens of milliseconds of latency per message. (cork()/uncork()
    // would batch several write() calls; we batch by hand instead, below.)
    socket.setNoDelay(true);
    const member: Member = { socket, label: peerLabel(socket.remoteAddress, socket.remotePort) };

    // ECONNRESET, EPIPE, ETIMEDOUT: a client that vanished. Not a server
    // error, just a disconnect; 'close' always follows and handles it.
    socket.on('error', () => {});
    // 'close' fires exactly once per socket, however the connection ended;
    // leave() is idempotent anyway, so exactly one "left" notice goes out.
    socket.on('close', () => {
      removeFromRoom(member);
      sockets.delete(socket);
      if (sockets.size === 0) allClosed?.();
    });

    room.join(member);
    room.send(member, encodeFrame(welcomeNotice(member.label, room.size)));
    room.broadcast(encodeFrame(joinedNotice(member.label, room.size)), member);
    log(`${member.label} joined (${room.size} online)`);

    const decoder = new LineDecoder({ maxFrameBytes: options.maxFrameBytes });
    socket.on('data', (chunk: Buffer) => {
      // The chat lines this read completed, encoded once each. They go out
      // as ONE broadcast: one write per recipient, not one per line (a
      // pasted block of 100 lines costs 100 times fewer system calls).
      const outgoing: Buffer[] = [];
      for (const frame of decoder.push(chunk)) {
        // After FRAME_TOO_LARGE the rest of this client's input is ignored
        // (but still read, so that the close stays polite).
        if (!room.has(member)) break;
        if (frame.ok && !frame.text.includes('\r')) {
          if (frame.text !== '') outgoing.push(encodeFrame(chatLine(member.label, frame.text)));
          continue;
        }
        relay(member, outgoing); // good lines before a bad one still go out, first
        // A lone \r inside a line cannot be relayed: some readers would see
        // two lines (encodeFrame refuses it for that reason).
        onBadFrame(member, frame.ok ? CR_INSIDE_LINE : frame.error);
      }
      relay(member, outgoing);
    });
  };
  // #endregion focus

  const relay = (sender: Member, lines: Buffer[]) => {
    if (lines.length === 0) return;
    room.broadcast(lines.length === 1 ? lines[0]! : Buffer.concat(lines), sender);
    lines.length = 0;
  };

  const removeFromRoom = (member: Member) => {
    if (!room.leave(member)) return;
    log(`${member.label} left (${room.size} online)`);
    room.broadcast(encodeFrame(leftNotice(member.label, room.size)));
  };

  // BAD_UTF8 is answered and forgiven. FRAME_TOO_LARGE means a client that
  // ignores the protocol's limit: tell it why, then disconnect it.
  const onBadFrame = (member: Member, error: ChatError) => {
    room.send(member, encodeFrame(errorLine(error)));
    log(`${member.label} sent a bad frame: ${error.code}`);
    if (error.code !== 'FRAME_TOO_LARGE') return;
    removeFromRoom(member);
    endPolitely(member.socket);
  };

  // allowHalfOpen stays false (the default): a client that ends its side is
  // leaving, and Node ends ours in reply, after its last lines were relayed.
  const server = net.createServer(onConnection);
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'EADDRINUSE' ? `port ${port} is already in use` : err.message;
      reject(new ChatError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${reason}`));
    };
    server.once('error', fail);
    server.listen({ host, port }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  // After startup, an accept error (e.g. EMFILE, too many open files) must
  // not crash the server: log it and keep serving the clients we have.
  server.on('error', (err: NodeJS.ErrnoException) =>
    log(`server error: ${err.code ?? err.message}`),
  );
  const address = server.address() as net.AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    get online() {
      return room.size;
    },
    close() {
      if (closing) return closing;
      // server.close() stops accepting at once; its callback runs when Node
      // has released every connection and the listening socket.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Also wait for our own 'close' handlers, so every leave is done.
      const drained = new Promise<void>((resolve) => {
        allClosed = resolve;
        if (sockets.size === 0) resolve();
      });
      const bye = encodeFrame(SHUTDOWN_NOTICE);
      for (const socket of sockets) endPolitely(socket, bye);
      closing = Promise.all([stopped, drained]).then(() => {});
      return closing;
    },
  };
}
