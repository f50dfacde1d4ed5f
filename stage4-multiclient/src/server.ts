/**
 * Stage 4's chat server: many clients in one room, every message broadcast
 * to everyone else with the sender's `IP:PORT`.
 *
 * What is new since stage 3 is not concurrency (the event loop already served
 * many sockets) but *conversation*: a message from one connection is written
 * to all the others. That brings its own problems, each taught in the stage
 * README: a member list that changes while we iterate it, disconnects
 * reported several times, and clients that stop reading.
 *
 * The work is split three ways, as in stage 6 (and in mini-redis): this file
 * is the listener (start, accept, shutdown); connection.ts handles one
 * connection and each line it sends; the room (shared/src/room.ts) holds the
 * members and writes to them.
 *
 * @module
 */
import net from 'node:net';
import { encodeFrame } from '../../shared/src/framing';
import { listen } from '../../shared/src/listen';
import { closeServerPolitely } from '../../shared/src/polite-close';
import { presenceLimitOption } from '../../shared/src/presence';
import { Room } from '../../shared/src/room';
import { serveConnection, type Member, type ServerState } from './connection';
import { SHUTDOWN_NOTICE } from './messages';

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
  /**
   * Largest room in which joins and leaves are announced (see
   * `PRESENCE_NOTICE_LIMIT` in shared/src/presence.ts). Default 1,000; tests use a small one.
   */
  presenceLimit?: number;
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

/**
 * Starts the stage 4 chat server.
 *
 * @param options - `{ host = '127.0.0.1', port = 0, maxFrameBytes = 4096,
 *   maxQueueBytes = 1 MiB, presenceLimit = 1000, log }`
 * @returns the running server, once it is listening
 * @throws ChatError `LISTEN_FAILED` if the address cannot be used (e.g. the port is taken),
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
    maxFrameBytes: options.maxFrameBytes,
    presenceLimit: presenceLimitOption(options.presenceLimit),
    sockets: new Set(),
    log,
  };
  // allowHalfOpen stays false (the default): a client that ends its side is
  // leaving, and Node ends ours in reply, after its last lines were relayed.
  const server = net.createServer((socket) => serveConnection(socket, state));
  const { port } = await listen(server, { host, port: options.port });
  // After startup, an accept error (e.g. EMFILE, too many open files) must
  // not crash the server: log it and keep serving the clients we have.
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
      closing ??= closeServerPolitely(server, state.sockets, encodeFrame(SHUTDOWN_NOTICE));
      return closing;
    },
  };
}
