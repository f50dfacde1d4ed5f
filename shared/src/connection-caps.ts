/**
 * Connection caps: how many sockets a server holds at once, and how many of
 * them one address may hold before it has logged in.
 *
 * Introduced by stage 6. Every open socket is a file descriptor, and a
 * process may have only so many (`ulimit -n`; 1,024 by default on many
 * Linux systems). A connection that has not logged in costs the attacker
 * nothing but a TCP handshake, so without a cap one machine can open them
 * until the descriptors run out. What happens then is worse than a refusal:
 * the kernel's `accept()` fails with EMFILE, and libuv (Node's I/O library)
 * then accepts each waiting connection on a spare descriptor and closes it at
 * once, so real clients are let in and dropped without a word, and Node
 * reports nothing.
 *
 * So the server counts, and refuses politely before the limit:
 *
 * - **`maxConnections`**, by default derived from the open-file limit
 *   ({@link defaultMaxConnections}): 90% of it, minus 64 descriptors for
 *   everything else the process opens (the database, the log, the hashing
 *   threads' event loops, the listening socket). Past it, a new connection
 *   gets one error frame (`TOO_MANY_CONNECTIONS`) and is closed.
 * - **`maxPreLoginPerAddress`**: connections that have not logged in yet, per
 *   address group (IPv6 by /64, see `address-group.ts`). A flood from one
 *   address fills its own quota and nothing else; logged-in users do not
 *   count (they are rate-limited by their password).
 * - **`newPerAddress`** (optional; the TLS stages set it): how fast one
 *   address group may open connections, a token bucket. The other caps count
 *   connections open *at once*; a TLS handshake costs the server a signature
 *   even when the connection closes right after, so one machine looping
 *   connect, handshake, close stays under both caps and still keeps a core
 *   busy signing. The bucket is taken when
 *   the connection is admitted, before any handshake work.
 *
 * A refusal costs one short write and a close, and the descriptor is freed at
 * once: no 2-second linger for a peer that never said anything.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { addressGroup } from './address-group';
import { TokenBuckets, type BucketLimit } from './rate-limit';

/** The default cap on connections not yet logged in, per address group. */
export const DEFAULT_PRE_LOGIN_PER_ADDRESS = 32;
/** Descriptors kept for everything that is not a client socket. */
const RESERVED_DESCRIPTORS = 64;
/** The cap used when the open-file limit cannot be read (not Linux). */
const FALLBACK_MAX_CONNECTIONS = 10_000;

/**
 * This process's open-file limit (the soft limit, in force), from
 * `/proc/self/limits`; `undefined` where that file does not exist. Node
 * raises its own soft limit to the hard limit at start-up, so this is the
 * hard limit the process was started with (e.g. `ulimit -n 600`).
 */
export function openFileLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return undefined;
    return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default for `maxConnections`: 90% of the open-file limit minus 64
 * descriptors for everything else, at least 16; 10,000 when the limit is
 * unknown.
 *
 * @param limit - the open-file limit (default: this process's)
 *
 * @example
 * ```ts
 * defaultMaxConnections(1024);   //=> 857
 * defaultMaxConnections(20_000); //=> 17936
 * ```
 */
export function defaultMaxConnections(limit: number | undefined = openFileLimit()): number {
  if (limit === undefined) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(16, Math.floor(limit * 0.9) - RESERVED_DESCRIPTORS);
}

/**
 * The default pace of new connections per address group for the TLS stages:
 * a burst of 64 (a classroom behind one NAT arriving at once), then one
 * every 50 ms, 20 a second.
 */
export const DEFAULT_NEW_CONNECTIONS_PER_ADDRESS: BucketLimit = { capacity: 64, refillMs: 50 };

/** The caps of a {@link ConnectionCaps}. */
export interface ConnectionCapLimits {
  /** Sockets held at once, logged in or not. */
  maxConnections: number;
  /** Sockets not yet logged in, per address group. */
  maxPreLoginPerAddress: number;
  /** New connections per address group, as a token bucket. Default: no limit. */
  newPerAddress?: BucketLimit;
}

/** Why a new connection was turned away at the door. */
export type Refusal = 'server full' | 'address full' | 'address too fast';

/** What {@link ConnectionCaps.admit} returns for a connection it turns away. */
export interface RefusedConnection {
  /** Which cap it met. */
  refused: Refusal;
}

/**
 * Counts sockets and decides, when one is accepted, whether it may stay.
 *
 * @example
 * ```ts
 * const caps = new ConnectionCaps({ maxConnections: 10_000, maxPreLoginPerAddress: 32 });
 * net.createServer((socket) => {
 *   const admitted = caps.admit(socket);
 *   if (typeof admitted !== 'string') return refuse(socket, admitted.refused);
 *   // ... on login: caps.loggedIn(admitted); on close: caps.closed(admitted, stillPreLogin)
 * });
 * ```
 */
export class ConnectionCaps {
  private open = 0;
  private readonly preLogin = new Map<string, number>();
  private readonly arrivals: TokenBuckets | undefined;

  /**
   * @param limits - the caps
   * @param now - the clock of the `newPerAddress` buckets, in ms (tests move it)
   */
  constructor(
    readonly limits: ConnectionCapLimits,
    now: () => number = Date.now,
  ) {
    if (limits.newPerAddress !== undefined) {
      this.arrivals = new TokenBuckets(limits.newPerAddress, now);
    }
  }

  /** Sockets held right now. */
  get connections(): number {
    return this.open;
  }

  /**
   * Counts a freshly accepted socket in, or says why it must go.
   *
   * @param socket - the accepted socket
   * @returns its address group (to hand back to {@link loggedIn} and
   *   {@link closed}), or the reason it was refused (then nothing was counted)
   */
  admit(socket: net.Socket): string | RefusedConnection {
    if (this.open >= this.limits.maxConnections) return { refused: 'server full' };
    const group = addressGroup(socket.remoteAddress);
    const waiting = this.preLogin.get(group) ?? 0;
    if (waiting >= this.limits.maxPreLoginPerAddress) return { refused: 'address full' };
    if (this.arrivals !== undefined) {
      if (this.arrivals.waitMs(group) > 0) return { refused: 'address too fast' };
      this.arrivals.take(group);
    }
    this.preLogin.set(group, waiting + 1);
    this.open++;
    return group;
  }

  /**
   * A connection logged in: it no longer counts against its address's quota.
   *
   * @param group - what {@link admit} returned for it
   */
  loggedIn(group: string): void {
    const waiting = (this.preLogin.get(group) ?? 1) - 1;
    if (waiting === 0) this.preLogin.delete(group);
    else this.preLogin.set(group, waiting);
  }

  /**
   * A connection closed.
   *
   * @param group - what {@link admit} returned for it
   * @param preLogin - true if it never logged in (it still counts in its address's quota)
   */
  closed(group: string, preLogin: boolean): void {
    if (preLogin) this.loggedIn(group);
    this.open--;
  }
}
