/**
 * What a per-address limit counts as one address: an IPv4 address, or an
 * IPv6 /64 network.
 *
 * Introduced by stage 6, whose connection caps, failed-login buckets and
 * hashing quotas all count "per IP". With IPv4 one address is what one
 * machine (or one NAT) has. With IPv6 it is not: a home or a cloud VM is
 * routinely given a whole /64 (2^64 addresses), and choosing a fresh source
 * address for every connection costs nothing. A limit keyed on the full IPv6
 * address would give such an attacker 2^64 budgets. So every per-address
 * limit in the project keys on {@link addressGroup}: the IPv4 address as is,
 * the first 64 bits of an IPv6 address (the usual size of one customer's
 * network, and what RFC 6177 assigns to a single subnet).
 *
 * @module
 */
import net from 'node:net';

/**
 * The key a per-address limit counts a client under.
 *
 * @param address - `socket.remoteAddress` (undefined once a socket is gone)
 * @returns the IPv4 address; `a:b:c:d::/64` for IPv6 (lower case, no leading
 *   zeros); `unknown` when there is no address
 *
 * @example
 * ```ts
 * addressGroup('203.0.113.7');                  //=> '203.0.113.7'
 * addressGroup('::ffff:203.0.113.7');           //=> '203.0.113.7' (IPv4 on a dual-stack socket)
 * addressGroup('2001:db8:0:1:8a2e:370:7334:1'); //=> '2001:db8:0:1::/64'
 * addressGroup('2001:db8::1');                  //=> '2001:db8:0:0::/64'
 * ```
 */
export function addressGroup(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  const groups = expandIPv6(address.replace(/%.*$/, '')); // drop a zone id (fe80::1%eth0)
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // A dotted IPv4 tail (64:ff9b::192.0.2.1) is the last two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}
