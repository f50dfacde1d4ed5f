// Write the core of stage 1: accept connections, and name both ends of each.
//
//   npm run exercise -- stage1/core     checks this file with real clients
//
// The task:
// 1. startServer(options) listens on options.host (default 127.0.0.1) and
//    options.port (default 0: any free port), and resolves once it is
//    listening, with the port it really got.
// 2. For every connection it accepts, it names both ends as `ip:port`: the
//    client's end (its address, and the port its OS picked) and the server's
//    end (the address the client reached, and the port). It passes them to
//    options.onConnection, then sends the client one line,
//    `hello CLIENT, you reached SERVER\n`, and closes the connection politely.
// 3. An IPv6 address holds colons itself, so it is written in brackets:
//    `[::1]:5050`, never `::1:5050`.
// 4. close() stops listening, and resolves once the server has stopped.
//
// Stuck? The chapter's smallest version (stage1-basic-server/minimal/server.ts)
// is most of it. The reference solution is exercises/solutions/stage1/core.patch:
// try first.
/* eslint-disable @typescript-eslint/no-unused-vars -- a stub: its names are yours to use */
import net from 'node:net';

/** Both ends of one connection, each as `ip:port` (`[ip]:port` for IPv6). */
export interface Endpoints {
  /** The client's end: its address and its ephemeral port. */
  client: string;
  /** The server's end: the address the client reached, and the listening port. */
  server: string;
}

/** Where to listen, and who to tell about each connection. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 asks the OS for a free one. Default 0. */
  port?: number;
  /** Called once for every accepted connection, before the greeting is sent. */
  onConnection?: (ends: Endpoints) => void;
}

/** A running server. */
export interface RunningServer {
  /** The port it listens on: the real one when 0 was asked for. */
  port: number;
  /** Stops listening; resolves once the server has stopped. */
  close(): Promise<void>;
}

/**
 * Writes one end of a connection as `ip:port`, or `[ip]:port` for IPv6.
 *
 * @example
 * ```ts
 * formatEndpoint('127.0.0.1', 5050); //=> '127.0.0.1:5050'
 * formatEndpoint('::1', 5050);       //=> '[::1]:5050'
 * ```
 */
export function formatEndpoint(address: string, port: number): string {
  throw new Error('formatEndpoint is not written yet');
}

/** Starts listening; resolves once the server is ready for clients. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  throw new Error('startServer is not written yet');
}
