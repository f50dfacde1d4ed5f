/**
 * How a server names a client: `IP:PORT`.
 *
 * Introduced by stage 4, whose chat lines begin with the sender's label;
 * stage 5 uses it the same way, and stage 6 in its logs. (Stage 1 teaches the
 * address pair itself, including IPv4-mapped IPv6 addresses.)
 *
 * @module
 */
import { formatEndpoint } from './listen';

/**
 * The label that names a client: its address and port as the server sees
 * them, e.g. `127.0.0.1:50312`. An IPv4 client reaching a dual-stack socket
 * appears as `::ffff:127.0.0.1`; the prefix is noise to a reader, so it is
 * dropped. Other IPv6 addresses get brackets (`[::1]:50312`) so the port
 * cannot be mistaken for part of the address.
 *
 * @param address - `socket.remoteAddress` (undefined once a socket is gone)
 * @param port - `socket.remotePort`
 *
 * @example
 * ```ts
 * peerLabel('::ffff:10.0.0.7', 40000); //=> '10.0.0.7:40000'
 * peerLabel('::1', 40000);             //=> '[::1]:40000'
 * ```
 */
export function peerLabel(address: string | undefined, port: number | undefined): string {
  if (address === undefined || port === undefined) return 'unknown';
  const ip = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return formatEndpoint(ip, port);
}
