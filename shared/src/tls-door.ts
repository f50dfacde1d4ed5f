/**
 * The door of a TLS chat server: what happens to a connection before it has
 * a TLS session, in the order it happens.
 *
 * Introduced by stage 7; stages 8 and 9 open the same door.
 *
 * 1. **The caps** (`connection-caps.ts`) count the TCP connection as it
 *    arrives, before the handshake: a handshake costs the server a
 *    signature, so starting one must not be free. A connection past a cap,
 *    or from an address opening them too fast, is dropped at once. Its
 *    client sees the connection close: a plain-text error would be
 *    unreadable to a client expecting TLS.
 * 2. **Plain text** gets a `TLS_REQUIRED` answer (`refusePlaintext`).
 * 3. **A few handshakes per turn** of the event loop (`handshake-gate.ts`).
 * 4. **A failed handshake** is logged by kind, sampled (anyone can cause one
 *    at no cost), and its connection closed (`closeFailedHandshakes`).
 * 5. **A finished handshake without the server's ALPN id** is closed.
 *
 * Then the stage is handed the socket with its address group, to count the
 * connection out of the caps when it logs in or closes. The TLS socket is
 * matched to its TCP connection by both ends' addresses and ports, which name
 * one live connection. (The peer's alone do not: on a server listening on
 * several addresses, one client port can hold a connection to each.)
 *
 * @module
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { ConnectionCaps } from './connection-caps';
import { gateHandshakes, TurnGate } from './handshake-gate';
import type { LogSampler } from './log-sampler';
import {
  closeFailedHandshakes,
  refusePlaintext,
  unexpectedProtocol,
  type TlsClientFailure,
} from './tls-server';

/** What a door needs from its server. */
export interface TlsDoorOptions {
  /** The server's caps; the stage counts a served connection out of them. */
  readonly caps: ConnectionCaps;
  /** Logs refusals, sampled. */
  readonly sampler: LogSampler;
  /** The server's ALPN id, e.g. `socket-chat/7`. */
  readonly alpnProtocol: string;
  /** Handshakes started per turn of the event loop (see `handshake-gate.ts`). */
  readonly handshakesPerTurn: number;
}

/** A server's open door. */
export interface TlsDoor {
  /** Destroys every connection still in its handshake (at shutdown). */
  closeUnfinished(): void;
}

/**
 * Opens the door of a TLS server: install it before `listen`, and before
 * anything else listens for `'connection'`.
 *
 * @param server - a TLS server, not yet listening
 * @param options - caps, logging, protocol id, handshakes per turn
 * @param serve - takes a connection whose handshake finished, with its
 *   address group (what `caps.admit` returned), still counted as not logged in
 * @returns the door, to close its unfinished handshakes at shutdown
 */
export function openTlsDoor(
  server: tls.Server,
  options: TlsDoorOptions,
  serve: (socket: tls.TLSSocket, group: string) => void,
): TlsDoor {
  const { caps, sampler } = options;
  const log = (failure: TlsClientFailure, event: string) => {
    if (sampler.allow(`${event}:${failure.code}`)) {
      sampler.logger.info({ event, code: failure.code }, failure.message);
    }
  };
  // First: the plain-text check below hands its connections to the gate.
  gateHandshakes(server, new TurnGate(options.handshakesPerTurn));
  refusePlaintext(server, { onRefused: (_socket, failure) => log(failure, 'refused') });

  const waiting = new Map<string, { group: string; raw: net.Socket }>();
  const keyOf = (s: net.Socket) =>
    `${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}`;
  // Before refusePlaintext's listener: a refused connection costs nothing more.
  server.prependListener('connection', (raw: net.Socket) => {
    // Reset before Node accepted it: no peer address, so no key to match its
    // TLS socket by (two such were one entry, and one was never counted out).
    if (raw.remoteAddress === undefined) return void raw.destroy();
    const admitted = caps.admit(raw);
    if (typeof admitted !== 'string') {
      raw.destroy();
      if (sampler.allow(`refused:TOO_MANY_CONNECTIONS:${admitted.refused}`, 1)) {
        sampler.logger.warn(
          { event: 'refused', code: 'TOO_MANY_CONNECTIONS', why: admitted.refused },
          `refused a connection before its handshake: ${admitted.refused}`,
        );
      }
      return;
    }
    const key = keyOf(raw);
    waiting.set(key, { group: admitted, raw });
    raw.once('close', () => {
      // Still here: the handshake never finished, so no connection counts it down.
      if (waiting.get(key)?.raw === raw) {
        waiting.delete(key);
        caps.closed(admitted, true);
      }
    });
  });

  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const other = unexpectedProtocol(socket, options.alpnProtocol); // offered no ALPN
    if (other !== undefined) {
      log(other, 'handshake_refused');
      return void socket.destroy(); // still waiting: counted out on close, above
    }
    const key = keyOf(socket);
    const group = waiting.get(key)?.group;
    waiting.delete(key);
    if (group === undefined) return void socket.destroy(); // closed meanwhile
    serve(socket, group);
  });
  // Node leaves a timed-out handshake open: this closes it.
  closeFailedHandshakes(server, (failure) => log(failure, 'handshake_refused'));
  return {
    closeUnfinished() {
      for (const { raw } of waiting.values()) raw.destroy();
    },
  };
}
