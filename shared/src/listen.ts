/**
 * Listening on an address, and saying clearly why it failed.
 *
 * Introduced by stage 1; every server of the course starts with it. Asking the
 * operating system for a listening socket can fail in a handful of ways, each
 * reported by Node as an `'error'` event with a system error code. A learner
 * who sees `listen EADDRINUSE: address already in use :::5050` has to know the
 * code; one who sees `cannot listen on 127.0.0.1:5050: port 5050 is already in
 * use (is another server running?)` does not. {@link listen} turns every such
 * failure into one `ChatError` with code `LISTEN_FAILED` and one sentence, and
 * the entry files print that sentence as the program's last line (exit code 1).
 *
 * @module
 */
import type net from 'node:net';
import { ChatError } from './errors';

/** Where a server asks to listen; what is left out takes the course's defaults. */
export interface ListenAddress {
  /** Address to listen on. Default `127.0.0.1` (loopback: reachable from this machine only). */
  host?: string;
  /** Port to listen on; 0 asks the OS for any free port. Default 0. */
  port?: number;
}

/**
 * Formats an address and a port the way URLs and most tools do: `ip:port` for
 * IPv4 and host names, `[ip]:port` for IPv6. The brackets matter: IPv6
 * addresses contain colons themselves, so `::1:5050` would be ambiguous.
 *
 * @param address - an IPv4 or IPv6 address, or a host name
 * @param port - a TCP port
 *
 * @example
 * ```ts
 * formatEndpoint('127.0.0.1', 5050); //=> '127.0.0.1:5050'
 * formatEndpoint('::1', 5050);       //=> '[::1]:5050'
 * ```
 */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Starts `server` listening and resolves with the address it is bound to (the
 * real port when 0 was asked for).
 *
 * @param server - a server that is not listening yet
 * @param where - host and port; `port` 0 or absent picks a free port
 * @returns the bound address, from `server.address()`
 * @throws ChatError `LISTEN_FAILED`, with one sentence saying why (see {@link listenFailure})
 *
 * @example
 * ```ts
 * const server = net.createServer(onConnection);
 * const { port } = await listen(server, { host: '127.0.0.1', port: 0 });
 * ```
 */
export function listen(server: net.Server, where: ListenAddress = {}): Promise<net.AddressInfo> {
  const { host = '127.0.0.1', port = 0 } = where;
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(listenFailure(err, host, port));
    // Errors such as EADDRINUSE arrive as an 'error' event, after listen() returned.
    server.once('error', failed);
    try {
      server.listen({ host, port }, () => {
        server.off('error', failed);
        resolve(server.address() as net.AddressInfo);
      });
    } catch (err) {
      // A port outside 0-65535 is refused at once, by a throw (ERR_SOCKET_BAD_PORT).
      server.off('error', failed);
      reject(listenFailure(err as NodeJS.ErrnoException, host, port));
    }
  });
}

/**
 * Turns the error Node reports for a failed `listen` into one sentence with
 * the stable code `LISTEN_FAILED`. A code not listed here keeps Node's own
 * message, which names it.
 *
 * @param err - the error from the server's `'error'` event (or listen's throw)
 * @param host - the address that was asked for
 * @param port - the port that was asked for
 *
 * @example
 * ```ts
 * listenFailure(Object.assign(new Error(), { code: 'EACCES' }), '0.0.0.0', 80).message;
 * //=> 'cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges)'
 * ```
 */
export function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): ChatError {
  const why: Record<string, string> = {
    EADDRINUSE: `port ${port} is already in use (is another server running?)`,
    EACCES: `permission denied${port < 1024 ? ' (ports below 1024 need privileges)' : ''}`,
    EADDRNOTAVAIL: `${host} is not an address of this machine`,
    EAFNOSUPPORT: `this machine does not support ${host}'s address family (is IPv6 turned off?)`,
    EINVAL: `${host} is not an address a server can listen on (link-local IPv6 needs %interface)`,
    ENOTFOUND: `unknown host ${host}`,
    EAI_NONAME: `unknown host ${host}`,
    EAI_AGAIN: `cannot look up ${host} right now (the DNS server did not answer)`,
    ERR_SOCKET_BAD_PORT: `${port} is not a port number (expected 0-65535)`,
  };
  const reason = why[err.code ?? ''] ?? err.message;
  return new ChatError(
    'LISTEN_FAILED',
    `cannot listen on ${formatEndpoint(host, port)}: ${reason}`,
  );
}
