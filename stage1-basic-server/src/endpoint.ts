/**
 * Writing down one end of a TCP connection: an IP address and a port.
 *
 * Stage 1's second lesson after "listen, accept": every connection has two
 * ends, each an `ip:port` pair, and the operating system tells each program
 * both of them. This module explains the one surprise in what Node reports,
 * IPv4-mapped IPv6 addresses. (`formatEndpoint`, which writes an end as
 * `ip:port` or `[ip]:port`, is in shared/src/listen.ts: every server uses it.)
 *
 * @module
 */

/** One end of a TCP connection, as the operating system reports it. */
export interface SocketEnd {
  /** The IP address, e.g. `127.0.0.1`, `::1` or `::ffff:127.0.0.1`. */
  address: string;
  /** The TCP port, 1 to 65535. */
  port: number;
  /** `IPv4` or `IPv6`: which address family the socket uses. */
  family: string;
}

// An IPv4-mapped IPv6 address is `::ffff:` followed by a dotted IPv4 address
// (RFC 4291, section 2.5.5.2). Node always prints it in this lowercase form.
const MAPPED_PREFIX = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address, or `null`.
 *
 * A server listening on the IPv6 wildcard `::` also accepts IPv4 clients (a
 * "dual-stack" socket). The kernel hands it those clients' addresses in IPv6
 * form, `::ffff:` plus the IPv4 address, because an IPv6 socket can only hold
 * IPv6 addresses. The client really did connect over IPv4.
 *
 * @param address - an address as Node reports it
 * @returns the embedded IPv4 address, or `null` if `address` is not IPv4-mapped
 *
 * @example
 * ```ts
 * mappedIPv4('::ffff:127.0.0.1'); //=> '127.0.0.1'
 * mappedIPv4('::1');              //=> null
 * ```
 */
export function mappedIPv4(address: string): string | null {
  return MAPPED_PREFIX.exec(address)?.[1] ?? null;
}
