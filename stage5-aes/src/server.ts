/**
 * Stage 5's chat server: the stage 4 room, speaking JSON frames, relaying
 * sealed boxes it cannot open.
 *
 * The server has no key and never loads one. A client's `{"type":"chat","box":…}`
 * is validated for *shape* (exact fields, canonical base64, size), stamped with
 * the sender's `IP:PORT` as `from`, and written to every other member with the
 * box unchanged. Whether the box is authentic is for the receivers to decide:
 * only they hold the key. Nothing the server logs or stores contains plaintext,
 * because it never has any.
 *
 * Everything else is stage 4: the same {@link Room}, the same error handling
 * (a bad frame is answered with an error frame; an oversized one also ends
 * the connection), the same polite shutdown.
 *
 * @module
 */
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import { peerLabel } from '../../shared/src/peer-label';
import { endPolitely } from '../../shared/src/polite-close';
import { Room } from '../../shared/src/room';
import { decodeClientFrame, encodeServerFrame } from './messages';

/** Options for {@link startServer}; every one is optional. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1` (loopback: not exposed to the network). */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Longest accepted frame in bytes. Default 16 KiB (`MAX_FRAME_BYTES`). */
  maxFrameBytes?: number;
  /** Per-client output queue cap in bytes; past it the client is disconnected. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Receives one line per connection event (joins, leaves, errors); never a box or a key. */
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
   * Stops accepting, sends every client a `SHUTTING_DOWN` error frame, ends
   * every connection, and resolves when all of them are closed. Safe to call twice.
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
 * Starts the stage 5 chat server.
 *
 * @param options - `{ host = '127.0.0.1', port = 0, maxFrameBytes = 16 KiB,
 *   maxQueueBytes = 1 MiB, log }`
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED` if the address cannot be bound (e.g. port in use)
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

    // #region join
    room.join(member);
    room.send(member, encodeServerFrame({ type: 'welcome', you: member.label, online: room.size }));
    // #endregion join
    room.broadcast(
      encodeServerFrame({ type: 'joined', who: member.label, online: room.size }),
      member,
    );
    log(`${member.label} joined (${room.size} online)`);

    const decoder = new LineDecoder({ maxFrameBytes: options.maxFrameBytes ?? MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      // The frames this read completed, encoded once each. They go out
      // as ONE broadcast: one write per recipient, not one per frame (a
      // burst of 100 messages costs 100 times fewer system calls).
      const outgoing: Buffer[] = [];
      for (const line of decoder.push(chunk)) {
        // After FRAME_TOO_LARGE the rest of this client's input is ignored
        // (but still read, so that the close stays polite).
        if (!room.has(member)) break;
        // Two layers of checks, both returning errors instead of throwing:
        // the line (size, UTF-8), then the frame (JSON, type, exact fields,
        // canonical base64, box size). The server cannot check more: it has no key.
        const decoded = line.ok ? decodeClientFrame(line.text) : line;
        if (decoded.ok) {
          // Relay the box exactly as received; `from` is the server's own label.
          // #region relay
          const { box } = decoded.frame;
          outgoing.push(encodeServerFrame({ type: 'chat', from: member.label, box }));
          // #endregion relay
          continue;
        }
        relay(member, outgoing); // good frames before a bad one still go out, first
        onBadFrame(member, decoded.error);
      }
      relay(member, outgoing);
    });
  };
  // #endregion focus

  const relay = (sender: Member, frames: Buffer[]) => {
    if (frames.length === 0) return;
    room.broadcast(frames.length === 1 ? frames[0]! : Buffer.concat(frames), sender);
    frames.length = 0;
  };

  const removeFromRoom = (member: Member) => {
    if (!room.leave(member)) return;
    log(`${member.label} left (${room.size} online)`);
    room.broadcast(encodeServerFrame({ type: 'left', who: member.label, online: room.size }));
  };

  // BAD_FRAME and BAD_UTF8 are answered and forgiven. FRAME_TOO_LARGE means a
  // client that ignores the protocol's limit: tell it why, then disconnect it.
  const onBadFrame = (member: Member, error: ChatError) => {
    room.send(
      member,
      encodeServerFrame({ type: 'error', code: error.code, message: error.message }),
    );
    log(`${member.label} sent a bad frame: ${error.code}`);
    if (error.code !== 'FRAME_TOO_LARGE') return;
    removeFromRoom(member);
    endPolitely(member.socket);
  };

  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const where = `${host}:${options.port ?? 0}`;
      reject(
        new ChatError('LISTEN_FAILED', `cannot listen on ${where} (${err.code ?? err.message})`),
      );
    };
    server.once('error', failed);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  // After startup, an accept error (e.g. EMFILE) must not crash the server.
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
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Also wait for our own 'close' handlers, so every leave is done.
      const drained = new Promise<void>((resolve) => {
        allClosed = resolve;
        if (sockets.size === 0) resolve();
      });
      const bye = encodeServerFrame({
        type: 'error',
        code: 'SHUTTING_DOWN',
        message: 'server shutting down',
      });
      for (const socket of sockets) endPolitely(socket, bye);
      closing = Promise.all([stopped, drained]).then(() => {});
      return closing;
    },
  };
}
