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
 * Everything else is stage 4: the same shape (this file the listener,
 * connection.ts one connection and each frame it sends, the shared room the
 * members), the same error handling (a bad frame is answered with an error
 * frame; an oversized one also ends the connection), the same polite shutdown.
 *
 * @module
 */
import net from 'node:net';
import { listen } from '../../shared/src/listen';
import { closeServerPolitely } from '../../shared/src/polite-close';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import { presenceLimitOption } from '../../shared/src/presence';
import { Room } from '../../shared/src/room';
import { serveConnection, type Member, type ServerState } from './connection';
import { encodeServerFrame } from './messages';

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
  /**
   * Largest room in which joins and leaves are announced (see
   * `PRESENCE_NOTICE_LIMIT` in shared/src/presence.ts). Default 1,000; tests use a small one.
   */
  presenceLimit?: number;
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

/**
 * Starts the stage 5 chat server.
 *
 * @param options - `{ host = '127.0.0.1', port = 0, maxFrameBytes = 16 KiB,
 *   maxQueueBytes = 1 MiB, presenceLimit = 1000, log }`
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED` if the address cannot be bound (e.g. port in use),
 *   `BAD_ARGUMENT` for a presence limit that is not a whole number ≥ 0
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
  const state: ServerState = {
    room: new Room<Member>({
      maxQueueBytes: options.maxQueueBytes,
      onSlowConsumer: (member, error) => log(`${member.label} disconnected: ${error.code}`),
    }),
    maxFrameBytes: options.maxFrameBytes ?? MAX_FRAME_BYTES,
    presenceLimit: presenceLimitOption(options.presenceLimit),
    sockets: new Set(),
    log,
  };
  const server = net.createServer((socket) => serveConnection(socket, state));
  const { port } = await listen(server, { host, port: options.port });
  // After startup, an accept error (e.g. EMFILE) must not crash the server.
  server.on('error', (err: NodeJS.ErrnoException) =>
    log(`server error: ${err.code ?? err.message}`),
  );

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    get online() {
      return state.room.size;
    },
    close() {
      const bye = encodeServerFrame({
        type: 'error',
        code: 'SHUTTING_DOWN',
        message: 'server shutting down',
      });
      closing ??= closeServerPolitely(server, state.sockets, bye);
      return closing;
    },
  };
}
