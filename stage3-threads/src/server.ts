/**
 * The stage 3 server: many clients on one event loop, and CPU work that either
 * freezes all of them (`blocking`) or runs beside them in workers (`pool`).
 *
 * Unlike stage 2, which served one client at a time, this server keeps every
 * connection open at once: the event loop waits for all sockets together and
 * runs a callback whenever one has data. That already is concurrency, on one
 * thread, and it holds as long as every callback is quick. A bcrypt hash is
 * not quick, so in `blocking` mode a `ping` from an unrelated client waits
 * behind it; in `pool` mode the hash runs in a worker thread and the `ping`
 * is answered at once.
 *
 * @module
 */
import net from 'node:net';
import os from 'node:os';
import { ChatError, isChatError } from '../../shared/src/errors';
import { encodeFrame, LineDecoder } from '../../shared/src/framing';
import { listen } from '../../shared/src/listen';
import { errorLine, parseCommand } from './commands';
import { createBlockingHasher, createPoolHasher, type HashMode, type Hasher } from './hasher';

/** Options for {@link startServer}; every field has a default. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 5050. */
  port?: number;
  /** Where hashes run. Default `pool`. */
  mode?: HashMode;
  /** Worker threads in pool mode. Default `os.availableParallelism()`, one per core. */
  workers?: number;
  /** bcrypt cost. Default 10. */
  cost?: number;
  /** Hashes that may wait for a worker before new ones get `SERVICE_UNAVAILABLE`. Default 32. */
  maxQueue?: number;
  /** Hashes one connection may have waiting; more get `SERVICE_UNAVAILABLE`. Default 8. */
  maxPendingPerClient?: number;
  /**
   * Called just before each hash starts (on the event loop in blocking mode,
   * when it is handed to the pool in pool mode). Tests use it to send a `ping`
   * at exactly that moment; it never sees the password.
   */
  onHashStart?: () => void;
}

/** A running stage 3 server. */
export interface Stage3Server {
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  /** The address it listens on. */
  host: string;
  /** Where hashes run. */
  mode: HashMode;
  /** Worker threads (0 in blocking mode). */
  workers: number;
  /** Stops listening, disconnects every client, and stops the workers. */
  close(): Promise<void>;
}

// A client that never reads its replies must not grow server memory forever.
// Stage 4 teaches this output limit properly; here it is only a guard rail.
const MAX_OUTPUT_BYTES = 1 << 20;

/**
 * Starts the server and resolves once it is listening (in pool mode, once the
 * workers are ready too).
 *
 * @param options - address, mode and limits
 * @returns a handle with the real port and `close()`
 * @throws ChatError `SERVICE_UNAVAILABLE` if the workers cannot start,
 *   `LISTEN_FAILED` if the address cannot be used
 */
export async function startServer(options: ServerOptions = {}): Promise<Stage3Server> {
  const cost = options.cost ?? 10;
  const hasher =
    (options.mode ?? 'pool') === 'blocking'
      ? createBlockingHasher(cost)
      : await createPoolHasher({
          cost,
          workers: options.workers ?? os.availableParallelism(),
          maxQueue: options.maxQueue ?? 32,
        });
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: when a client finishes sending (`printf 'hash x\n' | nc`),
  // keep our side open until its pending hashes are answered; see serveClient.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveClient(socket, hasher, options);
  });
  const where = { host: options.host, port: options.port ?? 5050 };
  const address = await listen(server, where).catch(async (err: unknown) => {
    await hasher.close(); // nothing to serve: stop the workers, then report why
    throw err;
  });
  return {
    port: address.port,
    host: address.address,
    mode: hasher.mode,
    workers: hasher.workers,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await Promise.all([closed, hasher.close()]);
    },
  };
}

// #region focus
function serveClient(socket: net.Socket, hasher: Hasher, options: ServerOptions): void {
  const decoder = new LineDecoder();
  const maxPending = options.maxPendingPerClient ?? 8;
  // Replies go out in the order the client asked: hashes for one client run
  // one after another (only a `pong` may overtake a hash still running in a
  // worker). Other clients' hashes run in parallel on other workers.
  let chain = Promise.resolve();
  let pending = 0;

  const send = (text: string): void => {
    if (!socket.writable) return;
    socket.write(encodeFrame(text));
    if (socket.writableLength > MAX_OUTPUT_BYTES) socket.destroy();
  };

  const hashAndReply = async (password: string): Promise<void> => {
    try {
      if (!socket.writable) return; // nobody left to answer
      options.onHashStart?.();
      // Blocking mode: the whole hash is computed on this line, and every
      // other socket waits. Pool mode: a worker computes it; we await.
      const hash = hasher.hash(password);
      send(typeof hash === 'string' ? hash : await hash);
    } catch (err) {
      send(errorLine(isChatError(err) ? err : new ChatError('SERVICE_UNAVAILABLE', 'hash failed')));
    } finally {
      pending--;
    }
  };

  const startHash = (password: string): void => {
    if (pending >= maxPending) {
      send(errorLine(new ChatError('SERVICE_UNAVAILABLE', `over ${maxPending} hashes pending`)));
      return;
    }
    pending++;
    // Nothing pending: start now. Otherwise: after the previous hash.
    chain = pending === 1 ? hashAndReply(password) : chain.then(() => hashAndReply(password));
  };

  socket.on('error', () => {
    /* ECONNRESET and friends: an ordinary disconnect */
  });
  // The client sent EOF: answer what it already asked, then close our side too.
  socket.on('end', () => {
    void chain.then(() => socket.end());
  });
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (!frame.ok) {
        send(errorLine(frame.error));
        // After an oversized line the stream is suspect: hang up on this client only.
        if (frame.error.code === 'FRAME_TOO_LARGE') return void socket.end();
        continue;
      }
      const command = parseCommand(frame.text);
      if (command === null) continue;
      if (command instanceof ChatError) send(errorLine(command));
      else if (command.kind === 'ping') send('pong');
      else startHash(command.password);
    }
  });
}
// #endregion focus
