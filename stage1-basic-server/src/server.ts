/**
 * Stage 1: a TCP server that accepts one connection, reports both of its
 * ends, says goodbye and stops.
 *
 * The smallest program that shows what a server is: it asks the operating
 * system for a listening socket (`listen`), the kernel completes a client's
 * handshake and hands the server a new, connected socket (`accept`, done for
 * us by Node's `'connection'` event), and that connected socket knows both
 * ends of the conversation: the client's `ip:port` and the server's.
 *
 * @module
 */
import net from 'node:net';
import { formatEndpoint, listen } from '../../shared/src/listen';
import type { SocketEnd } from './endpoint';

export type { SocketEnd } from './endpoint';

/** Both ends of one TCP connection, as the server sees it. */
export interface ConnectionInfo {
  /** The client's end: its IP address and the ephemeral port its OS picked. */
  client: SocketEnd;
  /** The server's end: the local address the client reached, and the listening port. */
  server: SocketEnd;
}

/** Where the server listens. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1` (loopback: reachable from this machine only). */
  host?: string;
  /** Port to listen on; 0 asks the OS for any free port. Default 0. */
  port?: number;
  /** How long to wait for the client to close its side after the goodbye, in ms. Default 5000. */
  closeGraceMs?: number;
}

/** A running stage 1 server. */
export interface Stage1Server {
  /** The address the server is bound to (what `listen` resolved `host` to). */
  host: string;
  /** The port the server is bound to; the real one when 0 was asked for. */
  port: number;
  /**
   * Resolves with both ends of the first (and only) connection as soon as it
   * is accepted, or with `null` if the server is closed before anyone connects.
   */
  firstConnection: Promise<ConnectionInfo | null>;
  /** Resolves once the server has stopped listening and its connection is closed. */
  closed: Promise<void>;
  /** Stops the server now, dropping the connection if there is one. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The line the server sends before closing, so that a person using `nc` sees
 * why the connection ended instead of a silent hang-up.
 *
 * @param info - both ends of the connection
 */
export function goodbyeLine(info: ConnectionInfo): string {
  const client = formatEndpoint(info.client.address, info.client.port);
  const server = formatEndpoint(info.server.address, info.server.port);
  return `hello ${client}, you reached ${server}. This server accepts one connection and then exits, so it is closing yours now. Goodbye!\n`;
}

/**
 * Starts listening and resolves once the socket is ready.
 *
 * @param options - where to listen
 * @returns the running server
 * @throws ChatError `LISTEN_FAILED` if the address cannot be used (port taken, unknown host)
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0 });
 * const info = await server.firstConnection; // someone ran `nc 127.0.0.1 PORT`
 * await server.closed;
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<Stage1Server> {
  const { host = '127.0.0.1', port = 0, closeGraceMs = 5000 } = options;
  const server = net.createServer();
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  let connection: net.Socket | null = null;
  let reportConnection: (info: ConnectionInfo | null) => void = () => {};
  const firstConnection = new Promise<ConnectionInfo | null>((r) => (reportConnection = r));

  // #region focus
  server.on('connection', (socket) => {
    // A reset from the client is a normal way for a connection to end; an
    // 'error' event with no listener would crash the whole process.
    socket.on('error', () => {});
    // Several clients can be accepted in the same turn of the event loop;
    // this server talks to exactly one and hangs up on the rest.
    if (connection !== null) {
      socket.destroy();
      return;
    }
    // Read both ends now, once. A client may connect and reset before we
    // accept it: the kernel still hands us the socket, but can no longer say
    // who was on the other end (the address reads as undefined). That is no
    // conversation, so we drop it and keep waiting for a real one.
    const info = endsOf(socket);
    if (info === null) {
      socket.destroy();
      return;
    }
    connection = socket;
    // Stop listening at once: later clients get "connection refused". The
    // socket we already accepted is not affected, and the server's 'close'
    // event waits until it is closed too.
    server.close();
    reportConnection(info);

    // Read (and ignore) whatever the client sends, so we notice its FIN.
    socket.resume();
    // end() is the polite close: send our last bytes, then a FIN ("I have
    // nothing more to say"). The socket is fully closed once the client
    // closes its side too; a client that never does is cut off after a while.
    socket.end(goodbyeLine(info));
    const timer = setTimeout(() => socket.destroy(), closeGraceMs);
    socket.once('close', () => clearTimeout(timer));
  });
  // #endregion focus

  // listen() (shared/src/listen.ts) turns the OS's refusals (port taken,
  // address not on this machine, ...) into one clear LISTEN_FAILED sentence.
  const bound = await listen(server, { host, port });

  return {
    host: bound.address,
    port: bound.port,
    firstConnection,
    closed,
    close: async () => {
      reportConnection(null); // no effect if a client was already reported
      if (server.listening) server.close();
      connection?.destroy();
      await closed;
    },
  };
}

/** Both ends of `socket`, or `null` if the peer was gone before we could ask. */
function endsOf(socket: net.Socket): ConnectionInfo | null {
  const client = endOf(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  const server = endOf(socket.localAddress, socket.localPort, socket.localFamily);
  return client && server ? { client, server } : null;
}

function endOf(
  address: string | undefined,
  port: number | undefined,
  family: string | undefined,
): SocketEnd | null {
  if (address === undefined || port === undefined) return null;
  return { address, port, family: family ?? (address.includes(':') ? 'IPv6' : 'IPv4') };
}
